"""CPU time and memory of another process, read from /proc (Linux only).

The headline figures are per second of *server* CPU time, because the load
generator competes with the server for the same two cores: wall-clock rates
say as much about the generator and the neighbours as about the server.
"""

import os
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of a process: CPU seconds used so far, resident memory, when."""

    cpu: float
    """utime + stime, in seconds (resolution 1/SC_CLK_TCK, usually 10 ms)."""
    rss: int
    """VmRSS in bytes."""
    wall: float
    """time.monotonic() at the reading."""


@dataclass(frozen=True, slots=True)
class Delta:
    """What a process used between two samples."""

    cpu: float
    wall: float
    rss_before: int
    rss_after: int

    @property
    def rss_growth(self) -> int:
        return self.rss_after - self.rss_before


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` from /proc/PID/stat, in seconds."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        raw = stat.read()
    # the command name (field 2) is in parentheses and may hold spaces: cut after the last ")"
    rest = raw[raw.rindex(b")") + 2:].split()
    utime, stime = int(rest[11]), int(rest[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICKS


def rss_bytes(pid: int) -> int:
    """VmRSS of `pid` from /proc/PID/status, in bytes."""
    with open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sample(pid: int) -> Sample:
    return Sample(cpu_seconds(pid), rss_bytes(pid), time.monotonic())


def between(before: Sample, after: Sample) -> Delta:
    return Delta(after.cpu - before.cpu, after.wall - before.wall, before.rss, after.rss)


def load_average() -> tuple[float, float, float]:
    """The machine's 1, 5 and 15 minute load averages: how noisy the neighbours were."""
    one, five, fifteen = os.getloadavg()
    return one, five, fifteen


def together(deltas: list[Delta]) -> Delta:
    """What several processes used in the same window (the nodes of a cluster): CPU and
    memory added up, the wall time of the first."""
    return Delta(sum(d.cpu for d in deltas), deltas[0].wall,
                 sum(d.rss_before for d in deltas), sum(d.rss_after for d in deltas))
