"""Profiles of the server under the 1:1 load (`python -m bench --profile [cprofile|py-spy]`).

cProfile is always there: the server runs as `python -m cProfile -o FILE -m
interzap_server ...` and writes FILE when SIGTERM ends it; its own overhead
inflates deep call trees (peewee's query builder most), so its shares are an
upper bound for pure-Python code. py-spy samples from outside at low cost but
is optional (`.venv/bin/pip install py-spy`): if it is installed it is
attached to the server's pid for the measured phase only, and its raw output
is summarised here as self and inclusive sample shares per function.
"""

import io
import os
import pstats
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def cprofile_top(path: Path, top: int = 25) -> str:
    """The top entries of a cProfile file, by internal and by cumulative time."""
    out = io.StringIO()
    for order in ("tottime", "cumulative"):
        out.write(f"\n--- top {top} by {order} ---\n")
        stats = pstats.Stats(str(path), stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
    return out.getvalue()


def py_spy() -> str | None:
    """The py-spy executable beside this Python, or on PATH; None if not installed."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


def spy_start(pid: int, raw: Path) -> subprocess.Popen[bytes]:
    """Sample `pid` at 250 Hz into `raw` (collapsed stacks) until spy_stop()."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--format", "raw", "--nolineno",
                             "--rate", "250", "--output", str(raw)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def spy_stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT makes py-spy write its file; kill it (ours, by pid) if it does not exit."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _short(frame: str) -> str:
    """`name (path/to/file.py)` -> `name (file.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({os.path.basename(where.rstrip(')'))})" if where else name


def spy_summary(raw: Path, top: int = 25) -> str:
    """Self and inclusive shares of the samples, per function, from py-spy's raw format."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "py-spy recorded no samples"
    lines = [f"{total} samples"]
    for title, counter in (("self", own), ("inclusive", inclusive)):
        lines.append(f"\n--- top {top} by {title} samples ---")
        lines += [f"{n / total:6.1%}  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join(lines)
