"""What the server counts, and the page that says it, in Prometheus' text exposition
format 0.0.4 (`# HELP`, `# TYPE`, counters ending `_total`, a histogram's `_bucket`,
`_sum` and `_count`).

Knows frame codes (the first bytes of every frame written to a connection) and
numbers; knows nothing of sockets, HTTP (metrics_http.py serves the page), the
selector or the store. Every connection counts the frames it is sent into `heads`
itself (Peer.write), by their first HEAD bytes; the loop counts what it alone sees
(connections accepted, connections from banned addresses), hands the service's
commit times to `commit_seconds`, and passes its gauges, read from memory when the
page is asked for, to `render`.

What is counted, exactly:
  registrations, logins        02 and 04 frames sent
  messages accepted            16 frames sent (a 16 sent again for a retransmission too)
  messages delivered           06 frames written to a connection (after a reconnection an
                               unacknowledged 06 is written, and counted, again)
  refused                      13 frames sent, by error code (13/12 and 13/15 are included:
                               every 13 the server says)
Frames owed to users in the database (the queues) are gauges the loop passes in,
from the store's census (storage/census.py), which counts them a slice at a time.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable

COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds (seconds) of the commit-time histogram: an fsync is a millisecond or
more on most disks, a stalled PostgreSQL seconds."""

WRITTEN = (
    ("interzap_registrations_total", "Accounts registered (02 frames sent).", b"02"),
    ("interzap_logins_total", "Logins (04 frames sent).", b"04"),
    ("interzap_messages_accepted_total",
     "Messages accepted: 16 frames sent, a retransmission's 16 included.", b"16"),
    ("interzap_messages_delivered_total",
     "Messages written to the recipient's connection: 06 frames, again after a "
     "reconnection if unacknowledged.", b"06"),
)
"""Counters of frames sent: name, help, frame code."""

HEAD = 4
"""The bytes of a frame it is counted by: its code, and a 13's error code."""
Heads = defaultdict[bytes, int]
"""Frames queued for connections, by their first HEAD bytes; a connection adds to it
itself: a call per frame (3 a message) cost more than the count (0.30 against 0.13 us)."""

Gauge = tuple[str, str, float]
"""A gauge read when the page is made: name, help, value."""


class Histogram:
    """Observations counted into cumulative buckets, as Prometheus wants them."""

    def __init__(self, bounds: Iterable[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last: over every bound (+Inf)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        index = 0
        while index < len(self.bounds) and value > self.bounds[index]:
            index += 1
        self.counts[index] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, help_text: str) -> list[str]:
        lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        running = 0
        for bound, count in zip((*map(float, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {running}')
        lines += [f"{name}_sum {self.sum!r}", f"{name}_count {self.count}"]
        return lines


class Metrics:
    """The server's counters since it started."""

    def __init__(self) -> None:
        self.heads: Heads = defaultdict(int)  # frames sent, summed by code for the page
        self.accepted = 0  # connections accepted (refused ones too)
        self.banned = 0  # connections from banned addresses (held, then refused)
        self.commits = Histogram(COMMIT_BUCKETS)

    def _by_code(self) -> tuple[Counter[bytes], Counter[bytes]]:
        """Frames sent by frame code, and 13s by error code."""
        written: Counter[bytes] = Counter()
        refused: Counter[bytes] = Counter()
        for head, count in self.heads.items():
            if head.startswith(b"13"):
                refused[head[2:4]] += count
            else:
                written[head[:2]] += count
        return written, refused

    def commit_seconds(self, seconds: float) -> None:
        self.commits.observe(seconds)

    def render(self, gauges: Iterable[Gauge]) -> bytes:
        """The page: every counter, the histogram and `gauges`, in the text format."""
        lines: list[str] = []
        written, refused = self._by_code()
        for name, help_text, value in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge",
                      f"{name} {value}"]
        counters = (
            ("interzap_connections_accepted_total", "Connections accepted.", self.accepted),
            ("interzap_banned_connections_total",
             "Connections from addresses banned for flooding (held, told 13/10, closed).",
             self.banned),
            *((name, help_text, written[code]) for name, help_text, code in WRITTEN),
        )
        for name, help_text, count in counters:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter",
                      f"{name} {count}"]
        lines += ["# HELP interzap_refused_total 13 frames sent, by error code.",
                  "# TYPE interzap_refused_total counter"]
        lines += [f'interzap_refused_total{{code="{code.decode()}"}} {count}'
                  for code, count in sorted(refused.items())]
        lines += self.commits.lines(
            "interzap_commit_seconds",
            "Seconds the database took to commit a batch of frames (empty batches left out).")
        return ("\n".join(lines) + "\n").encode("utf-8")


def queue_gauges(queued: int, largest: int, budget: float) -> list[Gauge]:
    """The frames owed in the database and the longest queue, as the census (which spends
    at most `budget` seconds a tick) last counted them."""
    every = f"counted a slice each second, {budget * 1000:g} ms at most"
    return [("interzap_queued_frames", f"Frames owed to users in the database ({every}).",
             queued),
            ("interzap_largest_queue", "Frames owed to the user owed the most.", largest)]
