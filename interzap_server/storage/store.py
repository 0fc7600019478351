"""The store: everything the chat rules ask of the database, as plain data.

The only module that runs queries. It speaks ids as text and returns ints,
strings, tuples and small dataclasses, never models; peewee's errors leave it
as StorageError. Writes happen inside `batch()`, the loop iteration's one
transaction.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import peewee
from peewee import JOIN, fn

from interzap_server.storage.models import Group, Member, Message, Pending, ReadMark, User
from shared.ids import group_id, number_of, user_id


class StorageError(Exception):
    """The database refused or failed; what was being done did not happen."""


@dataclass(frozen=True, slots=True)
class Queued:
    """One frame owed to a user: its queue entry, the frame, and whether it is a 06."""

    entry: int
    frame: bytes
    is_message: bool


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except peewee.DatabaseError as exc:
        raise StorageError(str(exc)) from exc


class Store:
    """Queries and writes for the chat rules."""

    def __init__(self, db: peewee.Database) -> None:
        self._db = db

    # -- transactions ---------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction, committed on exit; raises StorageError if the commit fails."""
        with _translated(), self._db.atomic():
            yield

    def close(self) -> None:
        self._db.close()

    # -- users and groups ------------------------------------------------------

    def register(self, token_hash: str, now: int) -> str:
        with _translated():
            return user_id(User.insert(token_hash=token_hash, created=now).execute())

    def token_hash(self, user: str) -> str | None:
        with _translated():
            row = (User
                   .select(User.token_hash)
                   .where(User.id == number_of(user))
                   .tuples()
                   .first())
        return row[0] if row else None

    def user_exists(self, user: str) -> bool:
        with _translated():
            return User.select().where(User.id == number_of(user)).exists()

    def group_members(self, group: str) -> tuple[str, ...] | None:
        """The members of a group, creator first, or None if there is no such group."""
        with _translated():
            rows = (Member
                    .select(Member.user)
                    .where(Member.group == number_of(group))
                    .order_by(Member.position)
                    .tuples())
            members = tuple(user_id(number) for (number,) in rows)
        return members or None

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
        with _translated():
            return (Message
                    .select()
                    .where((Message.src == src) & (Message.dst == dst) & (Message.ts == ts))
                    .exists())

    def add_message(self, src: str, dst: str, ts: int, now: int) -> int:
        """Remember a new key; returns the message's number for its queue entries."""
        with _translated():
            return int(Message.insert(src=src, dst=dst, ts=ts, accepted=now).execute())

    def enqueue(self, recipient: str, frame: bytes, message: int | None = None) -> int:
        """Owe `frame` (an encoded frame, LF included) to `recipient`; returns the queue entry."""
        with _translated():
            return int(Pending.insert(
                recipient=number_of(recipient), message=message, frame=frame.decode("utf-8"),
            ).execute())

    def queue_length(self, recipient: str, limit: int) -> int:
        """How many frames are owed to `recipient`, counting no further than `limit`."""
        with _translated():
            return int(Pending
                       .select(Pending.id)
                       .where(Pending.recipient == number_of(recipient))
                       .limit(limit)
                       .count())

    def acknowledge(self, recipient: str, src: str, dst: str, ts: int) -> int | None:
        """Drop the 06 with this key from the recipient's queue.

        Returns how many recipients still owe a 12 for that message, or None if
        the recipient had nothing with this key queued (unknown or acknowledged).
        """
        with _translated():
            message = (Message
                       .select(Message.id)
                       .where((Message.src == src) & (Message.dst == dst) & (Message.ts == ts))
                       .tuples()
                       .first())
            if message is None:
                return None
            deleted = (Pending
                       .delete()
                       .where((Pending.message == message[0])
                              & (Pending.recipient == number_of(recipient)))
                       .execute())
            if not deleted:
                return None
            return int(Pending.select().where(Pending.message == message[0]).count())

    def forget(self, entries: Sequence[int]) -> None:
        """Drop queue entries that were written to their recipient (07, 09, 11)."""
        if not entries:
            return
        with _translated():
            Pending.delete().where(Pending.id.in_(list(entries))).execute()

    def queued(self, recipient: str, after: int, limit: int) -> list[Queued]:
        """The recipient's queue after entry `after`, oldest first, at most `limit`."""
        with _translated():
            rows = (Pending
                    .select(Pending.id, Pending.frame, Pending.message)
                    .where((Pending.recipient == number_of(recipient)) & (Pending.id > after))
                    .order_by(Pending.id)
                    .limit(limit)
                    .tuples())
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
