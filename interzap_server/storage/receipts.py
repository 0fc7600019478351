"""Group receipts: when each member's client stored (12) and read (08) a group message,
for the author's "who got and read it" (25, PROTOCOL.md 5.12).

Part of the store (Store.receipts). A row is made by the 12 of a group copy,
and its read time set by the 08 that moves the reader's mark past it: group
frames only, so a 1:1 message costs nothing more. The rows of a transaction's
12s wait here and are written together when the store flushes (as writes.py does
for queue entries: on SQLite an INSERT per 256 rows), so many group 12s in one
loop iteration cost one statement. Rows go with their keys, after KEY_MEMORY
(expiry.py).

Knows ids, the group_receipt and queue tables; knows no chat rules.
"""

from collections.abc import Sequence

from interzap_server.storage.models import Entry, GroupReceipt
from interzap_server.storage.numbers import number, user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from interzap_server.storage.writes import write_rows
from shared.ids import number_of, user_id

Waiting = tuple[int, int, int, int, int]
"""A receipt not written yet, as its row will hold it (RECEIPT_FIELDS' order): group,
src, ts, member (numbers), delivered; its read time, if an 08 of the same transaction
set one, is kept beside it (Receipts._read). A tuple: one is made per group 12."""


class Receipts:
    """Delivery and read times of group copies, as plain ids."""

    def __init__(self, runner: Runner, sql: Statements) -> None:
        self._runner = runner
        self._sql = sql
        self._waiting: list[Waiting] = []
        # read times of waiting rows, by their index: rows are written without the read
        # column when they have none (the usual case), since sqlite3 binds a None slowly
        self._read: dict[int, int] = {}

    def delivered(self, group: int, src: int, ts: int, member: int, now: int) -> None:
        """`member` acknowledged the message (src, group, ts) at `now` (again: no change);
        numbers, as Store.acknowledge has them."""
        self._waiting.append((group, src, ts, member, now))

    @property
    def waiting(self) -> int:
        """Receipts not written yet (a mark for truncate())."""
        return len(self._waiting)

    def flush(self) -> None:
        """Write the waiting receipts, one statement per kind (unread, and read in the same
        transaction); one already there stays as it is."""
        if not self._waiting:
            return
        rows, read = self._waiting, self._read
        if read:
            write_rows(self._runner, self._sql,
                       [(*rows[index], now) for index, now in read.items()],
                       self._sql.add_read_receipts)
            rows = [row for index, row in enumerate(rows) if index not in read]
        write_rows(self._runner, self._sql, rows, self._sql.add_receipts)
        self._waiting = []
        self._read = {}

    def truncate(self, mark: int) -> None:
        """Forget the receipts made since `mark` (their frame was undone)."""
        del self._waiting[mark:]
        for index in [index for index in self._read if index >= mark]:
            del self._read[index]

    def read(self, group: str, src: str, member: str, after: int, upto: int, now: int) -> None:
        """`member` read src's messages to the group with after < ts <= upto, at `now`."""
        reader = (number_of(group), user_number(src), user_number(member))
        for index, (number_, author, ts, who, _) in enumerate(self._waiting):
            if (number_, author, who) == reader and after < ts <= upto:
                self._read.setdefault(index, now)
        self._runner.execute(GroupReceipt
                             .update(read=now)
                             .where((GroupReceipt.group == number_of(group))
                                    & (GroupReceipt.src == user_number(src))
                                    & (GroupReceipt.ts > after) & (GroupReceipt.ts <= upto)
                                    & (GroupReceipt.member == user_number(member))
                                    & GroupReceipt.read.is_null()))

    def of(self, group: str, src: str, ts: int) -> dict[str, tuple[int, int]]:
        """Per member who acknowledged the message: (delivered at, read at or 0)."""
        rows = self._runner.query(GroupReceipt
                                  .select(GroupReceipt.member, GroupReceipt.delivered,
                                          GroupReceipt.read)
                                  .where((GroupReceipt.group == number_of(group))
                                         & (GroupReceipt.src == user_number(src))
                                         & (GroupReceipt.ts == ts)))
        found = {user_id(member): (int(delivered), int(read or 0))
                 for member, delivered, read in rows}
        key = (number_of(group), user_number(src), ts)
        for index, row in enumerate(self._waiting):
            if row[:3] == key:
                found.setdefault(user_id(row[3]), (row[4], self._read.get(index, 0)))
        return found

    def owed(self, group: str, src: str, ts: int, members: Sequence[str]) -> set[str]:
        """Those of `members` whose copy of the message is still in their queue."""
        if not members:
            return set()
        rows = self._runner.query(Entry
                                  .select(Entry.user)
                                  .where(Entry.user.in_([user_number(m) for m in members])
                                         & (Entry.dst == number(group))
                                         & (Entry.src == user_number(src)) & (Entry.ts == ts)))
        return {user_id(user) for (user,) in rows}
