"""Shortcuts that are true only while this process is the database's one writer.

The store asks the database less by keeping, in memory: the users known to
exist (until the operator's change of one is read: storage/accounts.py) and
the members of each group (a fact that only ever becomes true: no group is
deleted), every block (few, loaded whole at first use, so that a
1:1 message asks no more of the database), an upper bound of each user's queue length, the copies
of recent group messages not yet acknowledged, where each unacknowledged 06
is in its recipient's queue (so that a 12 deletes it by its primary key), and
the last seq of each queue. Each is right only if no other process writes the
same tables: another server could enqueue to a user (the bound would be too
low, the seq taken twice) or take a 12 (the count too high). So the store
of a database shared by several processes runs with the caches off
(`open_store(..., shared=True)`): they then learn nothing, every lookup
misses, and every answer comes from the database.

One memory stays on for a shared database too: the pairs of users known to be
contacts (storage/names.py). A contact row is never deleted, so once committed
by any process it is true for all of them; pairs met in a batch are learnt only
when it commits.

Knows ids, message keys and numbers; knows no SQL, no driver and no chat rules.
"""

import time
from collections.abc import Sequence

FULL_QUEUE_RECOUNT = 1.0
"""Seconds a queue found full stays full without counting it again."""
COUNTED_MESSAGES = 65_536
"""Group messages whose unacknowledged copies are counted in memory at most. Past
this the counts are dropped (and taken from the database again when needed): a
member who never logs in again would otherwise keep their counts forever."""

REMEMBERED_CONTACTS = 1_000_000
"""Pairs of contacts remembered at most; past this they are forgotten (and each pair's next
1:1 message asks the database once more)."""

REMEMBERED_COPIES = 262_144
"""Unacknowledged 06s whose place in the queue is remembered at most; past this they are
forgotten (a 12 then finds its copy among its recipient's entries)."""

Key = tuple[int, int, int]
"""A message's (dst, src, ts), in numbers: a group's dst is minus its number."""


class LocalCaches:
    """What this process has learnt from the database, forgotten when a batch rolls back
    (it may have been learnt from rows of that batch).

    Lookups answer "known" or "ask the database"; what the database then says
    is taught back, unless the caches are off.
    """

    def __init__(self, on: bool = True) -> None:
        self.on = on
        self._users: set[str] = set()
        self._groups: dict[str, tuple[str, ...]] = {}
        self._owed: dict[str, int] = {}  # an upper bound of each user's queue length
        self._full_until: dict[str, float] = {}  # full queues are recounted after this
        # Copies of a group message not yet acknowledged, where known: counted when the
        # message was stored, or as the database counted them after a restart.
        self._copies: dict[Key, int] = {}
        # (user, dst, src, ts) -> seq of the user's unacknowledged 06 of that message: a
        # flat tuple, since a tuple holding the key would be hashed anew at each lookup
        self._places: dict[tuple[int, int, int, int], int] = {}
        # the last seq given out in each user's queue: never forgotten, even when a
        # batch rolls back (its seqs become gaps), since a session may have been sent
        # an entry of a larger seq that was deleted since; and, for users this process
        # has not yet enqueued to, the largest seq a session was sent
        self._seqs: dict[int, int] = {}
        self._seen: dict[int, int] = {}
        self._blocks: dict[int, set[int]] | None = None  # blocker -> blocked; None: not loaded
        self._met: set[tuple[str, str]] = set()  # contacts, (low, high): kept when shared
        self._meeting: set[tuple[str, str]] = set()  # ... written in the open batch

    def end_batch(self, committed: bool) -> None:
        if committed and self._meeting:
            if len(self._met) + len(self._meeting) > REMEMBERED_CONTACTS:
                self._met.clear()
            self._met |= self._meeting
        self._meeting.clear()
        if not committed:
            self._blocks = None
            self._users.clear()
            self._groups.clear()
            self._owed.clear()
            self._copies.clear()
            self._places.clear()

    # -- users and groups --------------------------------------------------------------

    def knows_user(self, user: str) -> bool:
        return user in self._users

    def learn_user(self, user: str) -> None:
        if self.on:
            self._users.add(user)

    def forget_user(self, user: str) -> None:
        """The operator disabled or deleted `user` (storage/accounts.py): ask again."""
        self._users.discard(user)

    def members(self, group: str) -> tuple[str, ...] | None:
        return self._groups.get(group)

    def learn_members(self, group: str, members: tuple[str, ...]) -> None:
        if self.on:
            self._groups[group] = members

    def forget_members(self, group: str) -> None:
        """The group's members changed (23): ask the database next time."""
        self._groups.pop(group, None)

    # -- contacts ----------------------------------------------------------------------

    def met(self, pair: tuple[str, str]) -> bool:
        """Whether the pair is known to be contacts (committed, or written in this batch)."""
        return pair in self._met or pair in self._meeting

    def meeting(self, pair: tuple[str, str]) -> None:
        """The pair's contact row is written (or found) in the open batch."""
        self._meeting.add(pair)

    # -- blocks ------------------------------------------------------------------------

    def blocks(self) -> dict[int, set[int]] | None:
        """Every block, blocker -> those blocked; None: load them (or the caches are off)."""
        return self._blocks

    def learn_blocks(self, rows: list[tuple[int, int]]) -> None:
        if self.on:
            self._blocks = {}
            for blocker, blocked in rows:
                self._blocks.setdefault(blocker, set()).add(blocked)

    # -- queue lengths -----------------------------------------------------------------
    #
    # Counting a queue costs a scan, so the count is kept as an upper bound (raised
    # by each enqueue, never lowered) and taken again only when the bound reaches
    # the limit; a queue counted full is not counted again for FULL_QUEUE_RECOUNT.

    def has_room(self, recipient: str, limit: int) -> bool | None:
        """Whether the recipient is owed fewer than `limit` frames, or None: count them."""
        if self._owed.get(recipient, limit) < limit:
            return True
        if self._full_until.get(recipient, 0.0) > time.monotonic():
            return False  # counted full a moment ago: a burst to it costs no more scans
        return None

    def learn_queue_length(self, recipient: str, owed: int, limit: int) -> None:
        if self.on:
            self._owed[recipient] = owed
            if owed >= limit:
                self._full_until[recipient] = time.monotonic() + FULL_QUEUE_RECOUNT

    def acknowledged(self, recipient: str) -> None:
        """The recipient's queue lost an entry: count it afresh when it is next full."""
        self._full_until.pop(recipient, None)

    # -- copies of group messages ------------------------------------------------------

    def new_group_message(self, key: Key, copies: int) -> None:
        """A group message was stored with this many copies."""
        self.learn_copies(key, copies)

    def copies_left(self, key: Key) -> int | None:
        """Copies still unacknowledged now that one more is, or None: count them."""
        left = self._copies.pop(key, 0) - 1
        if left < 0:  # not counted here (since a restart, a rollback, or past the limit)
            return None
        if left:
            self._copies[key] = left
        return left

    def learn_copies(self, key: Key, left: int) -> None:
        if self.on:
            if len(self._copies) >= COUNTED_MESSAGES:
                self._copies.clear()
            self._copies[key] = left

    # -- where each copy is ------------------------------------------------------------

    def learn_places(self, copies: Sequence[tuple[int, int, str, int, int, int]]) -> None:
        """Per (user, seq, frame, src, dst, ts): `user`'s copy of the message (dst, src, ts)
        is its entry `seq` (a flush's or a page's 06s, all at once)."""
        if self.on:
            known = self._places
            if len(known) + len(copies) > REMEMBERED_COPIES:
                known.clear()
            for user, seq, _, src, dst, ts in copies:
                known[user, dst, src, ts] = seq

    def take_place(self, user: int, key: Key) -> int | None:
        """The seq of `user`'s copy of `key`, forgotten now that it is acknowledged, or
        None: find it in the database."""
        dst, src, ts = key
        return self._places.pop((user, dst, src, ts), None)

    # -- seqs --------------------------------------------------------------------------

    def take_seq(self, user: int, recipient: str) -> int | None:
        """The next seq of `user`'s queue (the user `recipient`), one more entry owed to them
        from now on; or None: ask the database for the last seq (nothing is counted then)."""
        last = self._seqs.get(user)
        if last is None:
            return None
        self._seqs[user] = last + 1
        if recipient in self._owed:
            self._owed[recipient] += 1
        return last + 1

    def learn_last_seq(self, user: int, last: int) -> None:
        """The database's last seq of `user`'s queue; not below any seq already sent, which
        may have been deleted since (a session's cursor must stay behind new entries)."""
        if self.on:
            self._seqs[user] = max(last, self._seen.pop(user, 0))

    def saw_seq(self, user: int, seq: int) -> None:
        """An entry of `user` was read from the database (to be sent)."""
        if self.on and user not in self._seqs and seq > self._seen.get(user, 0):
            self._seen[user] = seq
