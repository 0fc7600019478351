"""A picture of one bench report: throughput per database, and latency percentiles.

Drawn with matplotlib (the dev extra) into a PNG beside the JSON report; if
matplotlib is missing the report stands alone. Reads Figures only (report.py):
the medians, with the min..max of the runs as error bars.
"""

import logging
from collections.abc import Sequence
from pathlib import Path

from bench.report import Figure

log = logging.getLogger(__name__)

THROUGHPUT = ("complete msgs / server-CPU s", "complete msgs / wall s")
LATENCY = ("05->06 p50", "05->06 p99", "05->07 p50", "05->07 p99")


def draw(figures: Sequence[Figure], path: Path, title: str) -> Path | None:
    """Write the chart of `figures` to `path`; None if there is nothing to draw or no
    matplotlib."""
    throughput = [f for f in figures if f.name in THROUGHPUT and f.server]
    latency = [f for f in figures if f.name in LATENCY and f.server]
    if not throughput and not latency:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no chart")
        return None
    fig, axes = plt.subplots(1, 2, figsize=(16, 7))
    _bars(axes[0], throughput, "messages per second (median, min..max)")
    _bars(axes[1], latency, "milliseconds (median, min..max)")
    axes[0].set_title("1:1 throughput: per server-CPU s and per wall s")
    axes[1].set_title("latency percentiles (log scale)")
    if latency:  # without latency figures (--only one_to_one) a log scale has nothing
        axes[1].set_xscale("log")  # a saturated server's seconds beside an idle one's ms
    fig.suptitle(f"Interzap bench, {title} (orange: the server on PostgreSQL)")
    fig.subplots_adjust(left=0.2, right=0.98, wspace=0.75)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _bars(axis: object, figures: Sequence[Figure], label: str) -> None:
    """One horizontal bar per figure, labelled by its scenario and name."""
    names = [f"{f.scenario}\n{f.name}" for f in figures]
    medians = [f.median() or 0.0 for f in figures]
    low = [m - min(f.server) for m, f in zip(medians, figures, strict=True)]
    high = [max(f.server) - m for m, f in zip(medians, figures, strict=True)]
    colours = ["tab:orange" if "postgresql" in f.scenario else "tab:blue" for f in figures]
    axis.barh(names, medians, xerr=[low, high], color=colours)  # type: ignore[attr-defined]
    axis.set_xlabel(label)  # type: ignore[attr-defined]
    axis.invert_yaxis()  # type: ignore[attr-defined]
    axis.tick_params(axis="y", labelsize=7)  # type: ignore[attr-defined]
