"""Reading a user's queue: what a session catching up is sent, a page at a time.

Part of the store (Store.queue). A page is read after the transaction's waiting
writes are flushed (the store's flush), and where each 06 read is, is learnt, so
that its 12 needs no lookup (caches.py; on a node of a cluster places.py). On a
node, the queue's head comes with the page in the same snapshot, and the queues
of all the sessions woken in an iteration are read in one statement (pages()).

Knows ids, numbers and the queue and queue_head tables; knows no sessions.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.numbers import SEQ_SPAN, user_number
from interzap_server.storage.places import Places
from interzap_server.storage.runner import Row, Runner
from interzap_server.storage.statements import Statements


@dataclass(frozen=True, slots=True)
class Queued:
    """One frame owed to a user: its queue entry, the frame, and whether it is a 06."""

    entry: int
    frame: bytes
    is_message: bool


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a user's queue, and the entry a session that was sent a short page (all
    there is) may take as its cursor: its last entry, or, shared, the queue's head if that
    is further (the entries between were deleted, or their seqs never used)."""

    entries: list[Queued]
    through: int


class QueueReader:
    """Pages of users' queues, as plain data."""

    def __init__(self, runner: Runner, sql: Statements, caches: LocalCaches, places: Places,
                 flush: Callable[[], None], shared: bool, locks: bool) -> None:
        self._runner = runner
        self._sql = sql
        self._caches = caches
        self._places = places
        self._flush = flush  # the store's: write what waits before reading the queue
        self._shared = shared  # other servers write the database (Store.shared)
        self._locks = locks  # several nodes on PostgreSQL (Store._locks)

    def read(self, recipient: str, after: int, limit: int) -> list[Queued]:
        """The recipient's queue after entry `after`, oldest first, at most `limit`."""
        return self.page(recipient, after, limit).entries

    def page(self, recipient: str, after: int, limit: int) -> Page:
        """read(), and how far a session that was sent it all may move its cursor.

        Shared, the queue's head comes with the page, read in the same snapshot: every
        seq up to it was committed before it (the head's lock, docs/SCALING.md), so a
        seq the page does not hold up to there is gone, and the next entry another
        node makes can be sent live (sessions.py) without reading the queue first."""
        if self._locks:
            return self.pages({recipient: after}, limit)[recipient]
        user = user_number(recipient)
        self._flush()
        rows = self._runner.rows(self._sql.queued, user, max(after - user * SEQ_SPAN, 0), limit)
        entries = self._entries(user, rows)
        return Page(entries, entries[-1].entry if entries else after)

    def pages(self, cursors: Mapping[str, int], limit: int) -> dict[str, Page]:
        """Shared, on PostgreSQL: page() of each user after its cursor, in one statement
        (the queues of a node's woken sessions). A user with no head has no entry yet."""
        self._flush()
        after = {user_number(user): cursor for user, cursor in cursors.items()}
        rows = self._runner.rows(self._sql.queued_to_heads, list(after),
                                 [max(cursor - user * SEQ_SPAN, 0)
                                  for user, cursor in after.items()], limit)
        found: dict[int, list[Row]] = {user: [] for user in after}
        heads: dict[int, int] = {}
        for user, head, *entry in rows:
            heads[user] = int(head)
            if entry[0] is not None:
                found[user].append(tuple(entry))
        pages = {}
        for recipient, cursor in cursors.items():
            user = user_number(recipient)
            entries = self._entries(user, found[user])
            last = entries[-1].entry if entries else cursor
            pages[recipient] = Page(entries, max(last, user * SEQ_SPAN + heads.get(user, 0)))
        return pages

    def _entries(self, user: int, rows: Sequence[Row]) -> list[Queued]:
        """Rows (seq, frame, src, dst, ts) of `user`'s queue as Queued; where each 06 is
        is learnt (caches.py, or shared places.py)."""
        base = user * SEQ_SPAN
        entries = []
        self._caches.learn_places([(user, *row) for row in rows if row[2] is not None])
        for seq, frame, src, dst, ts in rows:
            if self._shared and src is not None and dst > 0:
                self._places.learn(user, (dst, src, ts), seq)
            entries.append(Queued(base + seq, frame.encode("utf-8"), src is not None))
        if entries:
            self._caches.saw_seq(user, entries[-1].entry - base)
        return entries
