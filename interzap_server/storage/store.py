"""The store: everything the chat rules ask of the database, as plain data.

The only module that runs queries. It speaks ids as text and returns ints,
strings, tuples and small dataclasses, never models; peewee's errors leave it
as StorageError. Writes happen inside `batch()`, the loop iteration's one
transaction.
"""

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import peewee
from peewee import JOIN, fn

from interzap_server.storage.models import Group, Member, Message, Pending, ReadMark, User
from interzap_server.storage.statements import prepare
from shared.ids import group_id, is_group_id, number_of, user_id


class StorageError(Exception):
    """The database refused or failed; what was being done did not happen."""


@dataclass(frozen=True, slots=True)
class Queued:
    """One frame owed to a user: its queue entry, the frame, and whether it is a 06."""

    entry: int
    frame: bytes
    is_message: bool


_DRIVER_ERRORS: tuple[type[Exception], ...] = (peewee.DatabaseError, sqlite3.Error)
try:
    import psycopg2
    _DRIVER_ERRORS += (psycopg2.Error,)
except ImportError:
    pass


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except _DRIVER_ERRORS as exc:
        raise _storage_error(exc) from exc


def _storage_error(exc: BaseException) -> StorageError:
    return StorageError(_reason(exc))


def _reason(exc: BaseException) -> str:
    """What went wrong, first cause first.

    A failed COMMIT (disk full) is followed by peewee's ROLLBACK, which fails too
    ("no transaction is active"); that last error alone would hide the cause.
    """
    reasons: list[str] = []
    error: BaseException | None = exc
    while isinstance(error, _DRIVER_ERRORS):
        if str(error) not in reasons:
            reasons.insert(0, str(error))
        error = error.__context__
    return "; then: ".join(reasons)


FULL_QUEUE_RECOUNT = 1.0
"""Seconds a queue found full stays full without counting it again."""
COUNTED_MESSAGES = 65_536
"""Group messages whose unacknowledged copies are counted in memory at most. Past
this the counts are dropped (and taken from the database again when needed): a
member who never logs in again would otherwise keep their counts forever."""

_Key = tuple[str, str, int]  # a message's (src, dst, ts)


class Store:
    """Queries and writes for the chat rules."""

    def __init__(self, db: peewee.Database) -> None:
        self._db = db
        self._sql = prepare(db)
        self._cursor: Any = None
        # Facts that only ever become true; forgotten when a batch rolls back, since
        # they may have been learnt from rows of that batch.
        self._users: set[str] = set()
        self._groups: dict[str, tuple[str, ...]] = {}
        self._owed: dict[str, int] = {}  # an upper bound of each user's queue length
        self._full_until: dict[str, float] = {}  # full queues are recounted after this
        # Copies of a group message not yet acknowledged, where known: counted as they
        # are enqueued (in the batch that added the message, whose new ids `_counting`
        # maps to keys), or as the database counted them after a restart.
        self._copies: dict[_Key, int] = {}
        self._counting: dict[int, _Key] = {}

    def _run(self, sql: str, *params: object) -> Any:
        """Run one of the prepared statements on the store's own cursor; returns it."""
        return self._execute(sql, params, many=False)

    def _execute(self, sql: str, params: Any, many: bool) -> Any:
        """execute (or executemany over rows of params) on the store's own cursor.

        Errors are translated here rather than by _translated(): a context
        manager per statement costs more than the statement on the hot path.
        """
        try:
            if self._cursor is None:
                self._cursor = self._db.cursor()
            if many:
                self._cursor.executemany(sql, params)
            else:
                self._cursor.execute(sql, params)
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc
        return self._cursor

    def _rows(self, sql: str, *params: object) -> list[Any]:
        """Every row of a prepared statement.

        Always all of them: a statement left unfinished would keep its read
        snapshot open and stop SQLite from checkpointing the WAL.
        """
        cursor = self._run(sql, *params)
        try:
            return cursor.fetchall()  # type: ignore[no-any-return]
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc

    def _one(self, sql: str, *params: object) -> Any:
        """The first row of a prepared statement, or None."""
        rows = self._rows(sql, *params)
        return rows[0] if rows else None

    def _insert(self, sql: str, *params: object) -> int | None:
        """Run a prepared INSERT; the new row's id, or None if it inserted nothing."""
        if self._sql.returning:
            row = self._one(sql, *params)
            return None if row is None else int(row[0])
        cursor = self._run(sql, *params)
        return int(cursor.lastrowid) if cursor.rowcount else None

    # -- transactions ---------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction, committed on exit; raises StorageError if the commit fails."""
        try:
            with _translated(), self._db.atomic():
                yield
        except BaseException:
            self._users.clear()
            self._groups.clear()
            self._owed.clear()
            self._copies.clear()
            raise
        finally:
            self._counting.clear()  # a message's copies are all enqueued in its batch

    def close(self) -> None:
        self._db.close()

    # -- users and groups ------------------------------------------------------

    def register(self, token_hash: str, now: int) -> str:
        with _translated():
            return user_id(User.insert(token_hash=token_hash, created=now).execute())

    def token_hash(self, user: str) -> str | None:
        row = self._one(self._sql.token_hash, number_of(user))
        return row[0] if row else None

    def user_exists(self, user: str) -> bool:
        if user not in self._users:
            if self._one(self._sql.user_exists, number_of(user)) is None:
                return False
            self._users.add(user)
        return True

    def group_members(self, group: str) -> tuple[str, ...] | None:
        """The members of a group, creator first, or None if there is no such group."""
        members = self._groups.get(group)
        if members is None:
            rows = self._rows(self._sql.group_members, number_of(group))
            if not rows:
                return None
            members = self._groups[group] = tuple(user_id(number) for (number,) in rows)
        return members

    def find_group(self, creator: str, ts: int) -> str | None:
        """The group made by the 10 with this key, if there was one."""
        with _translated():
            row = (Group
                   .select(Group.id)
                   .where((Group.creator == number_of(creator)) & (Group.ts == ts))
                   .tuples()
                   .first())
        return group_id(row[0]) if row else None

    def create_group(self, creator: str, ts: int, members: Sequence[str], now: int) -> str:
        """A new group of `members` (creator first); returns its id."""
        with _translated():
            number = Group.insert(creator=number_of(creator), ts=ts, created=now).execute()
            Member.insert_many(
                [(number, number_of(member), position) for position, member in enumerate(members)],
                fields=[Member.group, Member.user, Member.position],
            ).execute()
        return group_id(number)

    # -- messages and the queue ------------------------------------------------

    def message_known(self, src: str, dst: str, ts: int) -> bool:
        return self._one(self._sql.message_id, src, dst, ts) is not None

    def add_message(self, src: str, dst: str, ts: int, now: int) -> int | None:
        """Remember a new key; its number for its queue entries, or None if it was known."""
        message = self._insert(self._sql.add_message, src, dst, ts, now)
        if message is not None and is_group_id(dst):
            self._counting[message] = (src, dst, ts)
            self._count_copies((src, dst, ts), 0)
        return message

    def enqueue(self, recipient: str, frame: bytes, message: int | None = None) -> int:
        """Owe `frame` (an encoded frame, LF included) to `recipient`; returns the queue entry."""
        entry = self._insert(self._sql.enqueue, number_of(recipient), message,
                             frame.decode("utf-8"))
        assert entry is not None  # nothing can make this insert a no-op
        if recipient in self._owed:
            self._owed[recipient] += 1
        key = None if message is None else self._counting.get(message)
        if key in self._copies:
            self._copies[key] += 1
        return entry

    def has_room(self, recipient: str, limit: int) -> bool:
        """Whether fewer than `limit` frames are owed to `recipient`.

        Counting a queue costs a scan, so the count is kept as an upper bound
        (raised by enqueue, never lowered) and taken again only when the bound
        reaches the limit.
        """
        if self._owed.get(recipient, limit) < limit:
            return True
        now = time.monotonic()
        if self._full_until.get(recipient, 0.0) > now:
            return False  # counted full a moment ago: a burst to it costs no more scans
        owed = int(self._one(self._sql.queue_length, number_of(recipient), limit)[0])
        self._owed[recipient] = owed
        if owed >= limit:
            self._full_until[recipient] = now + FULL_QUEUE_RECOUNT
        return owed < limit

    def acknowledge(self, recipient: str, src: str, dst: str, ts: int) -> int | None:
        """Drop the 06 with this key from the recipient's queue.

        Returns how many recipients still owe a 12 for that message, or None if
        the recipient had nothing with this key queued (unknown or acknowledged).
        A group message's copies are counted in memory where known, by the
        database otherwise.
        """
        if not self._run(self._sql.drop_copy, number_of(recipient), src, dst, ts).rowcount:
            return None
        self._full_until.pop(recipient, None)  # room again: count afresh next time
        if not is_group_id(dst):
            return 0  # a 1:1 message has a single copy
        key = (src, dst, ts)
        left = self._copies.pop(key, 0) - 1
        if left < 0:  # not counted here (since a restart, a rollback, or past the limit)
            left = int(self._one(self._sql.copies_left, src, dst, ts)[0])
        if left:
            self._count_copies(key, left)
        return left

    def _count_copies(self, key: _Key, left: int) -> None:
        """Start counting a group message's unacknowledged copies in memory."""
        if len(self._copies) >= COUNTED_MESSAGES:
            self._copies.clear()
        self._copies[key] = left

    def forget(self, entries: Sequence[int]) -> None:
        """Drop queue entries their recipient has confirmed reading (07, 09, 11)."""
        self._execute(self._sql.forget_one, [(entry,) for entry in entries], many=True)

    def queued(self, recipient: str, after: int, limit: int) -> list[Queued]:
        """The recipient's queue after entry `after`, oldest first, at most `limit`."""
        rows = self._rows(self._sql.queued, number_of(recipient), after, limit)
        return [Queued(entry, frame.encode("utf-8"), message is not None)
                for entry, frame, message in rows]

    # -- read marks ------------------------------------------------------------

    def newest_acknowledged(self, dst: str, reader: str, upto: int,
                            author: str | None = None) -> dict[str, int]:
        """Per author, the newest ts <= upto of its messages to dst that reader acknowledged."""
        still_queued = (Pending
                        .select(Pending.id)
                        .where((Pending.message == Message.id)
                               & (Pending.recipient == number_of(reader))))
        condition = (Message.dst == dst) & (Message.ts <= upto) & ~fn.EXISTS(still_queued)
        condition &= (Message.src == author) if author else (Message.src != reader)
        with _translated():
            rows = (Message
                    .select(Message.src, fn.MAX(Message.ts))
                    .where(condition)
                    .group_by(Message.src)
                    .tuples())
            return {src: int(ts) for src, ts in rows}

    def read_marks(self, dst: str, author: str) -> dict[str, int]:
        """How far each reader has read what `author` sent to `dst`."""
        with _translated():
            rows = (ReadMark
                    .select(ReadMark.reader, ReadMark.ts)
                    .where((ReadMark.dst == dst) & (ReadMark.author == author))
                    .tuples())
            return {reader: int(ts) for reader, ts in rows}

    def set_read_mark(self, dst: str, author: str, reader: str, ts: int) -> None:
        with _translated():
            (ReadMark
             .insert(dst=dst, author=author, reader=reader, ts=ts)
             .on_conflict(conflict_target=[ReadMark.dst, ReadMark.author, ReadMark.reader],
                          update={ReadMark.ts: ts})
             .execute())

    # -- housekeeping ----------------------------------------------------------

    def prune(self, before: int) -> int:
        """Forget keys accepted before `before` whose every copy was acknowledged."""
        with _translated():
            settled = (Message
                       .select(Message.id)
                       .join(Pending, JOIN.LEFT_OUTER, on=(Pending.message == Message.id))
                       .where((Message.accepted < before) & Pending.id.is_null()))
            return int(Message.delete().where(Message.id.in_(settled)).execute())
