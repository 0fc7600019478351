"""`make soak`: the fault and hostile-input runs of tests/ at full size, as a table.

Each module named in SCENARIOS has `run() -> list[Row]`; `python -m soak` runs
them in turn, prints one table and exits non-zero if any row failed. The same
behaviours run at small sizes in `make test`.
"""

from dataclasses import dataclass

SCENARIOS = ("soak.faults", "soak.hostile", "soak.operators", "soak.fuzz", "soak.cluster")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: what was done, what was measured, and whether it held."""

    area: str
    what: str
    figure: str
    ok: bool
