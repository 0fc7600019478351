"""The store: everything the chat rules ask of the database, as plain data.

The only module that says what to query. It speaks ids as text and returns
ints, strings, tuples and small dataclasses, never models; every failure
leaves it as StorageError. Statements run through runner.py; what this process
remembers between them is caches.py's; writes happen between begin() and
commit() (or rollback()), the loop iteration's one transaction.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from peewee import JOIN, fn

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.models import Group, Member, Message, Pending, ReadMark, User
from interzap_server.storage.runner import Runner, StorageError
from interzap_server.storage.statements import prepare
from interzap_server.storage.wakeups import Wakeups
from shared.ids import group_id, is_group_id, number_of, user_id


@dataclass(frozen=True, slots=True)
class Queued:
    """One frame owed to a user: its queue entry, the frame, and whether it is a 06."""

    entry: int
    frame: bytes
    is_message: bool


class Store:
    """Queries and writes for the chat rules."""

    def __init__(self, runner: Runner, caches: LocalCaches, wakeups: Wakeups) -> None:
        self._runner = runner
        self._sql = prepare(runner.db)
        self._caches = caches
        self.wakeups = wakeups  # the batch calls wakeups.notify(user) for each entry it makes

    # -- transactions ---------------------------------------------------------
    #
    # One at a time, opened and ended by the service's batch. The caches learn
    # inside it and forget what they learnt if it does not commit.

    def begin(self) -> None:
        """Open the transaction that every call until commit() or rollback() is part of."""
        self._runner.begin()

    def commit(self) -> None:
        """Make the transaction's writes durable; StorageError if that fails, and then
        none of them happened. Either way no transaction is open afterwards."""
        try:
            self._runner.commit()
        except StorageError:
            self._caches.end_batch(committed=False)
            raise
        self._caches.end_batch(committed=True)

    def rollback(self) -> None:
        """Drop the transaction's writes (StorageError if the database could not say so;
        the transaction is over either way)."""
        self._caches.end_batch(committed=False)
        self._runner.rollback()

    def savepoint(self) -> None:
        """What comes from now on may be undone alone (runner.py: PostgreSQL only)."""
        self._runner.savepoint()

    def rollback_to_savepoint(self) -> bool:
        """Undo what came since savepoint(); False if only rollback() can (runner.py)."""
        self._caches.end_batch(committed=False)  # they may have learnt from those rows
        return self._runner.rollback_to_savepoint()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """begin(); commit() after the block, or rollback() if it raises."""
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def close(self) -> None:
        self._runner.close()

    # -- users and groups ------------------------------------------------------

    def register(self, token_hash: str, now: int) -> str:
        return user_id(self._runner.insert_query(User.insert(token_hash=token_hash, created=now)))

    def token_hash(self, user: str) -> str | None:
        row = self._runner.one(self._sql.token_hash, number_of(user))
        return None if row is None else str(row[0])

    def user_exists(self, user: str) -> bool:
        if not self._caches.knows_user(user):
            if self._runner.one(self._sql.user_exists, number_of(user)) is None:
                return False
            self._caches.learn_user(user)
        return True

    def group_members(self, group: str) -> tuple[str, ...] | None:
        """The members of a group, creator first, or None if there is no such group."""
        members = self._caches.members(group)
        if members is None:
            rows = self._runner.rows(self._sql.group_members, number_of(group))
            if not rows:
                return None
            members = tuple(user_id(number) for (number,) in rows)
            self._caches.learn_members(group, members)
        return members

    def find_group(self, creator: str, ts: int) -> str | None:
        """The group made by the 10 with this key, if there was one."""
        rows = self._runner.query(Group
                                  .select(Group.id)
                                  .where((Group.creator == number_of(creator)) & (Group.ts == ts))
                                  .limit(1))
        return group_id(rows[0][0]) if rows else None

    def create_group(self, creator: str, ts: int, members: Sequence[str], now: int) -> str:
        """A new group of `members` (creator first); returns its id."""
        number = self._runner.insert_query(
            Group.insert(creator=number_of(creator), ts=ts, created=now))
        self._runner.execute(Member.insert_many(
            [(number, number_of(member), position) for position, member in enumerate(members)],
            fields=[Member.group, Member.user, Member.position],
        ))
        return group_id(number)

    # -- messages and the queue ------------------------------------------------

    def message_known(self, src: str, dst: str, ts: int) -> bool:
        return self._runner.one(self._sql.message_id, src, dst, ts) is not None

    def add_message(self, src: str, dst: str, ts: int, now: int) -> int | None:
        """Remember a new key; its number for its queue entries, or None if it was known."""
        message = self._runner.insert(self._sql.add_message, src, dst, ts, now)
        if message is not None and is_group_id(dst):
            self._caches.new_group_message(message, (src, dst, ts))
        return message

    def enqueue(self, recipient: str, frame: bytes, message: int | None = None) -> int:
        """Owe `frame` (an encoded frame, LF included) to `recipient`; returns the queue entry."""
        entry = self._runner.insert(self._sql.enqueue, number_of(recipient), message,
                                    frame.decode("utf-8"))
        assert entry is not None  # nothing can make this insert a no-op
        self._caches.enqueued(recipient, message)
        return entry

    def has_room(self, recipient: str, limit: int) -> bool:
        """Whether fewer than `limit` frames are owed to `recipient` (counted at most
        when the caches cannot tell)."""
        room = self._caches.has_room(recipient, limit)
        if room is None:
            owed = self._runner.count(self._sql.queue_length, number_of(recipient), limit)
            self._caches.learn_queue_length(recipient, owed, limit)
            room = owed < limit
        return room

    def acknowledge(self, recipient: str, src: str, dst: str, ts: int) -> int | None:
        """Drop the 06 with this key from the recipient's queue.

        Returns how many recipients still owe a 12 for that message, or None if
        the recipient had nothing with this key queued (unknown or acknowledged).
        A group message's copies are counted in memory where known, by the
        database otherwise.
        """
        if not self._runner.run(self._sql.drop_copy, number_of(recipient), src, dst, ts).rowcount:
            return None
        self._caches.acknowledged(recipient)
        if not is_group_id(dst):
            return 0  # a 1:1 message has a single copy
        key = (src, dst, ts)
        left = self._caches.copies_left(key)
        if left is None:
            left = self._runner.count(self._sql.copies_left, src, dst, ts)
            if left:
                self._caches.learn_copies(key, left)
        return left

    def forget(self, entries: Sequence[int]) -> None:
        """Drop queue entries their recipient has confirmed reading (07, 09, 11)."""
        self._runner.run_many(self._sql.forget_one, [(entry,) for entry in entries])

    def queued(self, recipient: str, after: int, limit: int) -> list[Queued]:
        """The recipient's queue after entry `after`, oldest first, at most `limit`."""
        rows = self._runner.rows(self._sql.queued, number_of(recipient), after, limit)
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
        rows = self._runner.query(Message
                                  .select(Message.src, fn.MAX(Message.ts))
                                  .where(condition)
                                  .group_by(Message.src))
        return {src: int(ts) for src, ts in rows}

    def read_marks(self, dst: str, author: str) -> dict[str, int]:
        """How far each reader has read what `author` sent to `dst`."""
        rows = self._runner.query(ReadMark
                                  .select(ReadMark.reader, ReadMark.ts)
                                  .where((ReadMark.dst == dst) & (ReadMark.author == author)))
        return {reader: int(ts) for reader, ts in rows}

    def set_read_mark(self, dst: str, author: str, reader: str, ts: int) -> None:
        self._runner.execute(ReadMark
                             .insert(dst=dst, author=author, reader=reader, ts=ts)
                             .on_conflict(conflict_target=[ReadMark.dst, ReadMark.author,
                                                           ReadMark.reader],
                                          update={ReadMark.ts: ts}))

    # -- housekeeping ----------------------------------------------------------

    def prune(self, before: int) -> int:
        """Forget keys accepted before `before` whose every copy was acknowledged."""
        settled = (Message
                   .select(Message.id)
                   .join(Pending, JOIN.LEFT_OUTER, on=(Pending.message == Message.id))
                   .where((Message.accepted < before) & Pending.id.is_null()))
        return self._runner.execute(Message.delete().where(Message.id.in_(settled)))
