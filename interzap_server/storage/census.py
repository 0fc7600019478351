"""The queue census: the frames queued and the longest queue, counted a slice at a time.

Counting every queue at once is a scan of the whole queue table: 52 ms for
100,000 queued frames on SQLite, 0.6 s for a million (docs/RELIABILITY.md), a
stall of the loop no metrics page is worth. So the census counts a range of
users at a time (`GROUP BY user` over a range of the primary key), as many
ranges as fit in a time budget per call, and publishes its figures when a pass
over every queue is done. The range widens while slices are cheap and narrows
when one overran, so a slice stays around the budget whatever the queues
hold. The figures are those of the last whole pass: with 10 ms a second, a
second old for a small server, about a minute for a million frames. A pass is
not a snapshot (queues change while it runs); the counts are exact for each
range when it is read.

Knows the queue table and the runner; knows nothing of metrics or the loop.
"""

import time
from dataclasses import dataclass

from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import user_id

FIRST_WIDTH = 256
"""Users per slice to start with."""


@dataclass(frozen=True, slots=True)
class Census:
    """What the last whole pass counted."""

    queued: int
    largest: int
    largest_user: str | None


class QueueCensus:
    """A pass over every queue, spread over calls of step()."""

    def __init__(self, runner: Runner, sql: Statements) -> None:
        self._runner = runner
        self._sql = sql
        self.figures: Census | None = None  # the last whole pass; None before the first
        self._width = FIRST_WIDTH
        self._next = 0  # the first user of the next slice
        self._end = -1  # past the last user with a queue, as the pass began
        self._queued = 0
        self._largest: tuple[int, int] = (0, 0)  # (frames, user)

    def step(self, budget: float) -> None:
        """Count slices for about `budget` seconds (at least one); StorageError if the
        database fails (the pass goes on from the same slice next time)."""
        deadline = time.perf_counter() + budget
        while True:
            if self._next > self._end:
                self._begin_pass()
            started = time.perf_counter()
            rows = self._runner.rows(self._sql.census, self._next, self._next + self._width)
            for user, count in rows:
                self._queued += int(count)
                self._largest = max(self._largest, (int(count), int(user)))
            self._next += self._width
            took = time.perf_counter() - started
            if took > budget / 2:
                self._width = max(1, self._width // 2)
            elif took < budget / 8:
                self._width *= 2
            if self._next > self._end:
                count, user = self._largest
                self.figures = Census(self._queued, count, user_id(user) if count else None)
            if time.perf_counter() >= deadline or self._next > self._end:
                return

    def _begin_pass(self) -> None:
        self._end = self._runner.count(self._sql.last_queue)
        self._next, self._queued, self._largest = 0, 0, (0, 0)
