"""Group receipts: when each member's client stored (12) and read (08) a group message,
for the author's "who got and read it" (25, PROTOCOL.md 5.9).

Part of the store (Store.receipts). A row is written by the 12 of a group copy,
and its read time set by the 08 that moves the reader's mark past it: group
frames only, so a 1:1 message costs nothing more. Rows go with their keys, after
KEY_MEMORY (Store.prune).

Knows ids, the group_receipt and queue tables; knows no chat rules.
"""

from collections.abc import Sequence

from interzap_server.storage.models import Entry, GroupReceipt
from interzap_server.storage.numbers import number, user_number
from interzap_server.storage.runner import Runner
from shared.ids import number_of, user_id


class Receipts:
    """Delivery and read times of group copies, as plain ids."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def delivered(self, group: str, src: str, ts: int, member: str, now: int) -> None:
        """`member` acknowledged the message (src, group, ts) at `now` (again: no change)."""
        self._runner.execute(GroupReceipt
                             .insert(group=number_of(group), src=user_number(src), ts=ts,
                                     member=user_number(member), delivered=now)
                             .on_conflict_ignore())

    def read(self, group: str, src: str, member: str, after: int, upto: int, now: int) -> None:
        """`member` read src's messages to the group with after < ts <= upto, at `now`."""
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
        return {user_id(member): (int(delivered), int(read or 0))
                for member, delivered, read in rows}

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

    def prune(self, before: int) -> int:
        """Forget receipts of copies acknowledged before `before`."""
        return self._runner.execute(GroupReceipt.delete().where(GroupReceipt.delivered < before))
