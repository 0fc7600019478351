"""The store: everything the chat rules ask of the database, as plain data.

The only module that says what to query. It speaks ids as text and returns
ints, strings, tuples and small dataclasses, never models; every failure
leaves it as StorageError. Statements run through runner.py; what this process
remembers between them is caches.py's; writes happen between begin() and
commit() (or rollback()), the loop iteration's one transaction, and most of
them wait in writes.py to be written together just before the commit.
"""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress

from interzap_server.storage.accounts import Accounts
from interzap_server.storage.acts import Acts
from interzap_server.storage.blocks import Blocks
from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.census import QueueCensus
from interzap_server.storage.expiry import Expiry
from interzap_server.storage.failures import Reported
from interzap_server.storage.groups import Groups
from interzap_server.storage.heads import Heads
from interzap_server.storage.marks import ReadMarks
from interzap_server.storage.models import Group, Member, User
from interzap_server.storage.names import Names
from interzap_server.storage.node import Node
from interzap_server.storage.numbers import SEQ_SPAN, number, user_number
from interzap_server.storage.pages import QueueReader
from interzap_server.storage.places import Places
from interzap_server.storage.presence import PresenceTable
from interzap_server.storage.receipts import Receipts
from interzap_server.storage.runner import Runner, StorageError
from interzap_server.storage.statements import prepare
from interzap_server.storage.wakeups import Wakeups
from interzap_server.storage.writes import NOTHING, Key, Mark, Writes
from shared.ids import group_id, number_of, user_id

log = logging.getLogger(__name__)


class Store:
    """Queries and writes for the chat rules."""

    def __init__(self, runner: Runner, caches: LocalCaches, wakeups: Wakeups) -> None:
        self._runner = runner
        self._sql = prepare(runner.db)
        runner.prepare(self._sql.definitions)  # PostgreSQL's hot statements (prepared.py)
        self._caches = caches
        self._writes = Writes(runner, self._sql)
        # where the frame's writes begin in _writes; None once a flush inside the frame
        # wrote earlier frames' rows after its savepoint (they cannot be undone alone)
        self._mark: Mark | None = NOTHING
        self.wakeups = wakeups  # told of each entry made when shared; says it at commit()
        self.shared = not caches.on  # other server processes write the same database
        # several nodes on PostgreSQL: the shared truths are locked (docs/SCALING.md)
        self._locks = self.shared and not self._sql.in_process
        self._heads = Heads(runner, self._sql)  # locked for the batch's 1:1 frames (heads.py)
        self._places = Places()  # the 1:1 06s this node sent, for their 12s (places.py)
        self.blocks = Blocks(runner, caches, self._sql, self._heads)  # who blocks whom
        self.names = Names(runner, caches, self._sql)  # display names, contacts (names.py)
        self.groups = Groups(runner, caches)  # group names, admins, changes (groups.py)
        self.acts = Acts(runner, self._writes, self._flush)  # for 31s only (acts.py)
        # online, last seen, this server's heartbeat and the dead nodes' users (presence.py)
        self.presence = PresenceTable(runner, self._sql, wakeups.origin, cluster=self._locks)
        self.receipts = Receipts(runner, self._sql)  # group copies stored, read (receipts.py)
        self._expiry = Expiry(runner)  # old keys and receipts forgotten (expiry.py)
        self._receipts_mark = 0  # receipts waiting at the last savepoint
        self.accounts = Accounts(runner, caches, self._sql)  # logins, invites, the operator's
        self.census = QueueCensus(runner, self._sql)  # queue figures, a slice at a time
        # the queues read, by a session catching up (pages.py)
        self.queue = QueueReader(runner, self._sql, caches, self._places, self._flush,
                                 shared=self.shared, locks=self._locks)
        self.marks = ReadMarks(runner, self._sql, self._locks, self._flush)  # 08s, 09s
        # what only a node of a cluster asks: heads, places, the sweep's read (node.py)
        self.node = Node(runner, self._sql, self._heads, self._places, self._writes,
                         locks=self._locks)

    # -- transactions ---------------------------------------------------------
    #
    # One at a time, opened and ended by the service's batch. The caches learn
    # inside it and forget what they learnt if it does not commit. Writes wait
    # in writes.py until commit() (or a read they would change) flushes them.

    def begin(self, again: bool = False) -> None:
        """Open the transaction that every call until commit() or rollback() is part of;
        `again`: in the same loop iteration as the last (runner.begin)."""
        self._writes.clear()
        self._heads.clear()
        self._places.begin()
        self.receipts.truncate(0)
        self._mark = NOTHING
        self._runner.begin(again)

    def commit(self) -> None:
        """Write what waits and make the transaction durable; StorageError if that fails,
        and then none of it happened. Either way no transaction is open afterwards.

        On PostgreSQL the flush's writes go with the COMMIT (roundtrips.py),
        and the NOTIFY of what the batch made (wakeups.py) right after it, in the same
        round trip but outside the transaction: a transaction that notifies holds
        PostgreSQL's notification lock across its commit, so one with the batch's
        writes would serialise every node's commits across their WAL flushes; this one
        has nothing to flush. Heard only after the entries are committed. If it never
        goes out (the node dies first, the connection is lost), the sweep finds the
        entries within a second (Sessions.sweep, docs/SCALING.md)."""
        self._runner.hold()
        try:
            self._flush()
        except StorageError:
            with suppress(StorageError):  # the flush's error is the one to tell
                self.rollback()
            raise
        said = self.wakeups.take(self._writes.voided)
        self._heads.clear()  # their locks end with the transaction, whatever happens
        try:
            unsaid = self._runner.commit(self._sql.notify, said) if said else self._runner.commit()
        except StorageError:
            self._forget()  # the runner rolled back
            raise
        self._caches.end_batch(committed=True)
        if unsaid is not None and not isinstance(unsaid, Reported):
            log.warning("could not tell the other nodes of a batch (%s); their sweep will "
                        "find its entries", unsaid)

    def rollback(self) -> None:
        """Drop the transaction's writes (StorageError if the database could not say so;
        the transaction is over either way)."""
        self._forget()
        self._runner.rollback()

    def _forget(self) -> None:
        """What the transaction left here: the caches' lessons, the writes and receipts
        waiting, the heads held, what it would have said."""
        self._caches.end_batch(committed=False)
        self._writes.clear()
        self._heads.clear()
        self.receipts.truncate(0)
        self.wakeups.clear()

    @property
    def undoes_alone(self) -> bool:
        """Whether a frame's writes can be undone alone (savepoint(): PostgreSQL)."""
        return self._runner.savepoints

    def savepoint(self) -> None:
        """What comes from now on may be undone alone (runner.py: PostgreSQL only): in the
        database since the savepoint, and here, what waits since this mark (per frame)."""
        if not self._runner.savepoints:  # SQLite: rollback_to_savepoint() is False anyway
            return
        self._mark = self._writes.mark()
        self._receipts_mark = self.receipts.waiting
        self.wakeups.savepoint()
        self._runner.savepoint()

    def rollback_to_savepoint(self) -> bool:
        """Undo what came since savepoint(); False if only rollback() can (runner.py, or a
        flush since wrote earlier frames' rows after the savepoint). Seqs handed out since
        are not taken back: they become gaps (PROTOCOL.md: ids are not gapless)."""
        self._caches.end_batch(committed=False)  # they may have learnt from those rows
        mark, self._mark = self._mark, NOTHING
        if mark is None or not self._runner.rollback_to_savepoint():
            return False
        self._writes.truncate(mark)
        self.receipts.truncate(self._receipts_mark)
        self._heads.undone()
        self.wakeups.undone()
        return True

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
        self.wakeups.close()
        self._runner.close()

    def while_waiting(self, hook: Callable[[], None]) -> None:
        """Have `hook` run before each round trip of a transaction (runner.py)."""
        self._runner.waiting = hook

    def _flush(self) -> None:
        """Write what waits; the caches learn the new group messages' copies, and where
        each 06 written is (not before: one of a known key is not written)."""
        if self._mark != NOTHING and (self.receipts.waiting or self._heads.moved
                                      or self._writes):
            self._mark = None  # earlier frames' rows go after this frame's savepoint
        if self.receipts.waiting:
            self.receipts.flush()
        if self._heads.moved:
            self._heads.write()
        if self._writes:
            checked = self._heads.new_keys(self._writes.keys)
            grouped, written = self._writes.flush(checked)
            self._heads.written(checked)
            for key, copies in grouped.items():
                self._caches.new_group_message(key, copies)
            self._caches.learn_places(written)

    def sent(self, entry: int) -> bool:
        """Whether an entry made in the last transaction was written (not dropped because
        its message's key turned out to be known): only those may be sent."""
        voided = self._writes.voided  # nearly always empty: no divmod then
        return not voided or divmod(entry, SEQ_SPAN) not in voided

    # -- users and groups ------------------------------------------------------

    def register(self, token_hash: str, now: int) -> str:
        return user_id(self._runner.insert_query(User.insert(token_hash=token_hash, created=now,
                                                             last_login=now)))

    def user_exists(self, user: str) -> bool:
        if not self._caches.knows_user(user):
            numbered = number_of(user)
            fetched = self._heads.exists(numbered)
            if fetched is not None:
                return fetched
            if self._runner.one(self._sql.user_exists, numbered) is None:
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
        """A new group of `members` (creator first, its admin); returns its id."""
        number = self._runner.insert_query(
            Group.insert(creator=number_of(creator), ts=ts, created=now))
        self._runner.execute(Member.insert_many(
            [(number, number_of(member), position, position == 0)
             for position, member in enumerate(members)],
            fields=[Member.group, Member.user, Member.position, Member.admin],
        ))
        return group_id(number)

    # -- messages and the queue ------------------------------------------------

    def message_known(self, src: str, dst: str, ts: int) -> bool:
        key = (number(dst), user_number(src), ts)
        if self._writes.has_key(key):
            return True
        known = self._heads.key_known(key)
        return known if known is not None else (
            self._runner.one(self._sql.key_known, *key) is not None)

    def add_message(self, src: str, dst: str, ts: int, now: int) -> Key | None:
        """Remember a new key, for its queue entries; None if it is known already.

        A key this transaction has not seen is taken as new; if it turns out known
        when written, its entries are dropped then (writes.py, sent()). A node knows
        before, for the keys its prefetch looked for (heads.py)."""
        key = (number(dst), user_number(src), ts)
        if (self._locks and self._heads.key_known(key)) or self._writes.has_key(key):
            return None
        self._writes.add_key(key, now)
        return key

    def enqueue(self, recipient: str, frame: bytes, message: Key | None = None) -> int:
        """Owe `frame` (an encoded frame, LF included) to `recipient`; returns the queue entry."""
        user = user_number(recipient)
        seq = self._caches.take_seq(user, recipient)
        if seq is None:
            seq = self._first_seq(user, recipient)
        text = frame.decode("utf-8")
        if message is None:
            self._writes.add_frame((user, seq, text))
        else:
            dst, src, ts = message
            self._writes.add_copy((user, seq, text, src, dst, ts))
        if self.shared:
            self.wakeups.notify(user, seq, text, message)  # carried by the wake-up if it can
            if message is not None and message[0] > 0:
                self._places.made(user, seq, message)
        return user * SEQ_SPAN + seq

    def _first_seq(self, user: int, recipient: str) -> int:
        """The next number in a queue the caches do not count (yet): the database's."""
        if not self._caches.on:
            held = self._heads.next_seq(user)
            return self._runner.count(self._sql.next_seq, user) if held is None else held
        self._caches.learn_last_seq(user, self._runner.count(self._sql.last_seq, user))
        seq = self._caches.take_seq(user, recipient)
        assert seq is not None
        return seq

    def full_queue(self, recipients: Sequence[str], limit: int) -> str | None:
        """The first of `recipients` already owed `limit` frames, if any (13/14); a queue
        is counted only when the caches cannot tell."""
        for recipient in recipients:
            room = self._caches.has_room(recipient, limit)
            if not (self._count_room(recipient, limit) if room is None else room):
                return recipient
        return None

    def _count_room(self, recipient: str, limit: int) -> bool:
        """Whether fewer than `limit` frames are owed to `recipient`, as the database says."""
        user = user_number(recipient)
        room = self._heads.has_room(user, limit)
        if room is None:
            if self._locks:  # counted under the head's lock: no other node adds meanwhile
                owed = self._runner.count(self._sql.lock_head + self._sql.queue_length,
                                          user, user, user, limit)
            else:
                owed = self._runner.count(self._sql.queue_length, user, limit)
            owed += self._writes.pending_for(user)
            self._caches.learn_queue_length(recipient, owed, limit)
            room = owed < limit
        return room

    def acknowledge(self, recipient: str, src: str, dst: str, ts: int,
                    now: int | None = None) -> int | None:
        """Drop the 06 with this key from the recipient's queue; a group copy's receipt
        is kept, with the time `now` of its 12 (receipts.py, for 25).

        Returns how many recipients still owe a 12 for that message, or None if
        the recipient had nothing with this key queued (unknown or acknowledged).
        A copy whose place is remembered is deleted with the transaction's other
        writes; one that is not is looked for now. A group message's copies are
        counted in memory where known, by the database otherwise.
        """
        user = user_number(recipient)
        key = (number(dst), user_number(src), ts)
        seq = self._caches.take_place(user, key)
        if seq is None and self.shared:
            seq = self._places.take(user, key)
        if seq is None and (self._caches.on or self._writes.has_key(key)):
            self._flush()  # the copy may be waiting to be written (a 12 to oneself)
            seq = self._caches.take_place(user, key)
        if seq is not None:
            self._writes.delete((user, seq))
        elif not self._drop_copy(user, key):
            return None
        self._caches.acknowledged(recipient)
        if key[0] > 0:
            return 0  # a 1:1 message has a single copy
        if now is not None:
            self.receipts.delivered(-key[0], key[1], ts, user, now)
        left = self._caches.copies_left(key)
        if left is None:
            self._flush()
            left = self._runner.count(self._sql.copies_left, -key[0], *key)
            if left:
                self._caches.learn_copies(key, left)
        return left

    def _drop_copy(self, user: int, key: Key) -> bool:
        """Delete `user`'s copy of `key` found among its entries; whether there was one.
        Shared, a group message's key is locked first, so that the 12s of its copies
        taken by several nodes take turns, and the last one sees that it is the last."""
        if self._locks and key[0] < 0:
            return bool(self._runner.run(self._sql.lock_key + self._sql.drop_copy,
                                         *key, user, *key).rowcount)
        return bool(self._runner.run(self._sql.drop_copy, user, *key).rowcount)

    def forget(self, entries: Sequence[int]) -> None:
        """Drop queue entries their recipient has confirmed reading (07, 09, 11)."""
        for entry in entries:
            self._writes.delete(divmod(entry, SEQ_SPAN))

    def copies_owed(self, group: str, src: str, ts: int, members: Sequence[str]) -> set[str]:
        """Those of `members` still owed their copy of a group message (not acknowledged)."""
        self._flush()
        return self.receipts.owed(group, src, ts, members)

    # -- housekeeping ----------------------------------------------------------

    def prune(self, before: int) -> int:
        """Forget keys accepted before `before` whose every copy was acknowledged, in the
        next slice of the table (expiry.py); how many."""
        self._flush()
        return self._expiry.prune(before)
