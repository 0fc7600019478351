"""`python -m soak [NAME ...]`: run the soak scenarios (all, or those named) and print a table."""

import importlib
import sys
import time

from soak import SCENARIOS, Row


def main(argv: list[str]) -> int:
    names = [f"soak.{name}" for name in argv] or list(SCENARIOS)
    rows: list[Row] = []
    for name in names:
        started = time.monotonic()
        module = importlib.import_module(name)
        rows.extend(module.run())
        print(f"# {name}: {time.monotonic() - started:.1f} s", flush=True)
    widths = [max(len(getattr(row, f)) for row in rows) for f in ("area", "what", "figure")]
    for row in rows:
        cells = (row.area, row.what, row.figure)
        line = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print(f"{'ok  ' if row.ok else 'FAIL'}  {line}")
    return 0 if rows and all(row.ok for row in rows) else 1


sys.exit(main(sys.argv[1:]))
