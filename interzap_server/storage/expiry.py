"""Forgetting message keys and group receipts after KEY_MEMORY, a slice of the table per call.

Theory of operation: an index on `message_key.accepted` would find the old keys
at once, but every message pays for it (a second B-tree written per key: 2.2% of
a 1:1 message's instructions in process), and deleting through it touches pages
all over the table: on a million keys, 45-65 ms of CPU an hour for an hour's
keys. So there is no such index; prune() walks the tables by their primary key
instead, a range of recipients (`dst`; `group` for the receipts) per call,
SLICES calls to a pass: 10-22 ms a call on the same table, 307 ms a day against
1,604 (bench/README.md, "Session 10"). At one housekeeping run an hour, each
key is looked at once a day, and forgotten between 7 and 8 days after it was
accepted (PROTOCOL.md 5.2: kept at least 7 days). A pass begins with the
table's smallest and largest `dst`, two probes at the ends of the primary key;
recipients added meanwhile come in the next pass. The ranges are of equal width
in numbers, not rows: a range of very busy recipients takes longer (64-70 ms
with half the keys on a tenth as many groups as users).

Knows message_key, queue, member and group_receipt; knows no chat rules.
"""

from collections.abc import Callable

from peewee import Expression, Field, Function, fn

from interzap_server.storage.models import Entry, GroupReceipt, Member, MessageKey
from interzap_server.storage.runner import Runner

SLICES = 24
"""Calls of prune() to a pass over every recipient: a day at one housekeeping run an hour."""


class Walk:
    """A pass over the values of a table's first primary-key column, a range per call."""

    def __init__(self, runner: Runner, column: Field) -> None:
        self._runner = runner
        self._column = column  # the first column of its table's primary key
        self._next: int | None = None  # where the next range begins; None: a new pass
        self._end = 0  # the largest value when the pass began
        self._width = 1

    def next_range(self) -> Expression | None:
        """The condition of the pass's next range, low <= column < high; None if the table
        is empty."""
        if self._next is None:
            low, high = self._end_of(fn.MIN), self._end_of(fn.MAX)
            if low is None or high is None:
                return None
            self._next, self._end = low, high
            self._width = -(-(self._end - self._next + 1) // SLICES)  # rounded up
        low = self._next
        self._next = low + self._width
        if self._next > self._end:
            self._next = None
        return (self._column >= low) & (self._column < low + self._width)

    def _end_of(self, which: Callable[[Field], Function]) -> int | None:
        """The column's smallest or largest value: a probe at one end of the primary key
        (SQLite scans the table for MIN and MAX in one SELECT)."""
        (value,) = self._runner.query(self._column.model.select(which(self._column)))[0]
        return None if value is None else int(value)


class Expiry:
    """The store's housekeeping: old keys whose every copy was acknowledged, old receipts."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._keys = Walk(runner, MessageKey.dst)
        self._receipts = Walk(runner, GroupReceipt.group)

    def prune(self, before: int) -> int:
        """Forget, in the next slice of each table, the keys accepted before `before` whose
        copies were all acknowledged, and the receipts of copies acknowledged before it;
        returns how many keys. Two statements for the keys, so that each looks for copies
        by its queues' primary key: a 1:1 key's copy is in its dst's queue, a group key's
        in its members'."""
        receipts = self._receipts.next_range()
        if receipts is not None:
            self._runner.execute(GroupReceipt.delete()
                                 .where(receipts & (GroupReceipt.delivered < before)))
        keys = self._keys.next_range()
        if keys is None:
            return 0
        old = keys & (MessageKey.accepted < before)
        copy = ((Entry.dst == MessageKey.dst) & (Entry.src == MessageKey.src)
                & (Entry.ts == MessageKey.ts))
        direct = Entry.select(Entry.seq).where((Entry.user == MessageKey.dst) & copy)
        members = Member.select(Member.user).where(Member.group == 0 - MessageKey.dst)
        grouped = Entry.select(Entry.seq).where(Entry.user.in_(members) & copy)
        return (self._runner.execute(MessageKey.delete()
                                     .where(old & (MessageKey.dst > 0) & ~fn.EXISTS(direct)))
                + self._runner.execute(MessageKey.delete()
                                       .where(old & (MessageKey.dst < 0) & ~fn.EXISTS(grouped))))
