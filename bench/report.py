"""Figures: per-run values summarised as median, min and max; the plain-text table; the JSON report.

A Figure holds one value per run for the server and, where the bare router
can do the same thing, for the baseline; the headline is the ratio of the two
medians. Whether a target is met is decided here from the medians, by a small
rule the scenario names (at least a share of the baseline, at most a bound, ...),
so that the rule is written next to the figure it judges and never tuned.
"""

import json
import math
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(slots=True)
class Figure:
    """One measured quantity of one scenario, one value per run."""

    scenario: str
    name: str
    unit: str
    server: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    target: str = ""
    """The issue's target in words; empty if this figure has none."""
    rule: tuple[str, float] | None = None
    """How to judge it: ("min_ratio", 0.25), ("max", 2.0), ("min", 20000), ("equal", 1.0)..."""
    note: str = ""

    def median(self, which: str = "server") -> float | None:
        values = [v for v in getattr(self, which) if not math.isnan(v)]
        return statistics.median(values) if values else None

    def ratio(self) -> float | None:
        mine, theirs = self.median("server"), self.median("baseline")
        if mine is None or not theirs:
            return None
        return mine / theirs

    def met(self) -> bool | None:
        if self.rule is None:
            return None
        kind, bound = self.rule
        value = self.ratio() if kind == "min_ratio" else self.median()
        if value is None:
            return None
        if kind in ("min_ratio", "min"):
            return value >= bound
        if kind == "max":
            return value <= bound
        return abs(value - bound) <= 1e-9  # "equal"

    def as_json(self) -> dict[str, Any]:
        def spread(values: Sequence[float]) -> dict[str, Any] | None:
            clean = [v for v in values if not math.isnan(v)]
            if not clean:
                return None
            return {"median": statistics.median(clean), "min": min(clean), "max": max(clean),
                    "runs": list(values)}

        return {"scenario": self.scenario, "figure": self.name, "unit": self.unit,
                "server": spread(self.server), "baseline": spread(self.baseline),
                "ratio": self.ratio(), "target": self.target or None, "met": self.met(),
                "note": self.note or None}


def percentile(sorted_values: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence; NaN if it is empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def _number(value: float | None, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "-"
    if unit == "share":
        return f"{value:.2%}"
    if unit == "count":
        return f"{value:,.0f}"
    size = abs(value)
    if size >= 100_000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(values: Sequence[float], unit: str) -> str:
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return "-"
    if len(clean) == 1:
        return _number(clean[0], unit)
    middle = statistics.median(clean)
    return (f"{_number(middle, unit)} "
            f"[{_number(min(clean), unit)}..{_number(max(clean), unit)}]")


def table(figures: Sequence[Figure]) -> str:
    """The figures as aligned plain text: median [min..max] per side, ratio, target, met."""
    header = ("scenario", "figure", "unit", "interzap", "baseline", "ratio", "target", "met")
    rows = [header]
    for f in figures:
        met = f.met()
        ratio = f.ratio()
        rows.append((f.scenario, f.name, f.unit, _cell(f.server, f.unit), _cell(f.baseline, f.unit),
                     "-" if ratio is None else f"{ratio:.1%}" if f.rule and
                     f.rule[0] == "min_ratio" else f"{ratio:.3g}x",
                     f.target or "", "" if met is None else "yes" if met else "NO"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(figures: Sequence[Figure], meta: dict[str, Any], stamp: str) -> Path:
    """Write bench/results/<stamp>.json and return its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    document = {"meta": {**meta, "python": platform.python_version(),
                         "machine": platform.machine(), "cpus": os.cpu_count()},
                "figures": [f.as_json() for f in figures]}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
