"""How interzap-admin writes what it found: an aligned table for people, JSON for scripts.

A table is a header and rows of cells; times are Unix seconds in JSON and UTC
minutes in the table ("-" for none). Knows nothing of the database.
"""

import json
import time
from collections.abc import Sequence
from typing import Any

Cell = str | int | None


def when(seconds: int | None) -> str:
    """Unix seconds as UTC minutes for people; "-" for never."""
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds))


def table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Columns aligned on the widest cell; numbers to the right, text to the left."""
    texts = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [max([len(name), *(len(row[i]) for row in texts)]) for i, name in enumerate(header)]
    numeric = [all(isinstance(row[i], int) for row in rows) and bool(rows)
               for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.rjust(width) if right else cell.ljust(width)
                         for cell, width, right in zip(cells, widths, numeric, strict=True)
                         ).rstrip()

    return "\n".join([line(header), *(line(row) for row in texts)])


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
