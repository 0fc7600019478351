"""What a generator process is asked to do (Job, ClientPlan) and what it reports (Stats).

Plain data, passed to the generator processes and back (they are pickled), and
the message text that lets any receiver check a 06 on its own: make_text puts
the author, the recipient, a sequence number, the send time and a CRC into it.
"""

import zlib
from array import array
from collections import Counter
from dataclasses import dataclass, field

TS_BASE = 1_700_000_000
"""Message n of a client has ts TS_BASE + n: a fresh key per message (PROTOCOL.md 5.2)."""
GROUP = "(group)"
"""A target meaning: the group this client learns from its 11."""
MAX_ERRORS_KEPT = 5


@dataclass(frozen=True, slots=True)
class Account:
    user: str
    token: str


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """One simulated user: who it is, whom it writes to, and what it waits for."""

    account: Account | None = None
    """None: register (01) instead of logging in."""
    target: str | None = None
    """A user id, GROUP, or None (receives only)."""
    members: tuple[str, ...] = ()
    """If not empty, this client creates a group of these members (10) before the load."""
    expect: int = 0
    """drain mode: the number of queued 06 this client waits for."""
    port: int = 0
    """The node this client connects to (bench/cluster.py); 0: the job's port."""


@dataclass(frozen=True, slots=True)
class Job:
    """What one generator process does."""

    host: str
    port: int
    clients: tuple[ClientPlan, ...]
    mode: str = "window"
    window: int = 32
    complete_on: int = 7
    duration: float = 0.0
    count: int = 0
    rate: float = 0.0
    warmup: float = 0.0
    parallel: int = 256
    """Connections being set up at once (keeps the server's accept backlog from overflowing)."""
    timeout: float = 120.0
    """Longest any phase may take; a phase that runs out reports what it has."""


@dataclass(slots=True)
class Stats:
    """What a driver counted; merged over processes with `merge`."""

    counts: Counter[str] = field(default_factory=Counter)
    lat16: "array[int]" = field(default_factory=lambda: array("q"))
    """05 -> 16 latencies in ns, and likewise below."""
    lat06: "array[int]" = field(default_factory=lambda: array("q"))
    lat07: "array[int]" = field(default_factory=lambda: array("q"))
    first_frame: "array[int]" = field(default_factory=lambda: array("q"))
    """drain mode: 04 -> first queued 06, per client."""
    first_after_connect: "array[int]" = field(default_factory=lambda: array("q"))
    """drain mode: connect (03 queued at once) -> first queued 06, per client."""
    t_start: int = 0
    t_end: int = 0
    t_delivered: int = 0
    """monotonic ns of the last 06 read."""
    errors: list[str] = field(default_factory=list)

    def merge(self, other: "Stats") -> None:
        self.counts.update(other.counts)
        for name in ("lat16", "lat06", "lat07", "first_frame", "first_after_connect"):
            getattr(self, name).extend(getattr(other, name))
        starts = [t for t in (self.t_start, other.t_start) if t]
        self.t_start = min(starts) if starts else 0
        self.t_end = max(self.t_end, other.t_end)
        self.t_delivered = max(self.t_delivered, other.t_delivered)
        self.errors.extend(other.errors[:MAX_ERRORS_KEPT - len(self.errors)])


def make_text(src: str, dst: str, seq: int, sent_ns: int) -> str:
    body = f"{src}>{dst}#{seq}@{sent_ns}"
    return f"{body}~{zlib.crc32(body.encode()):08x}"


def parse_text(text: str) -> tuple[str, str, int, int] | None:
    """(src, dst, seq, sent_ns) from a text made by make_text, or None if it was damaged."""
    body, _, crc = text.rpartition("~")
    try:
        if zlib.crc32(body.encode()) != int(crc, 16):
            return None
        route, _, sent = body.rpartition("@")
        pair, _, seq = route.rpartition("#")
        src, _, dst = pair.partition(">")
        return src, dst, int(seq), int(sent)
    except ValueError:
        return None
