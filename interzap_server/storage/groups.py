"""Groups after their creation: names, admins, members added and removed, and the keys of
the changes made (PROTOCOL.md 5.10).

Part of the store (Store.groups). Off every message's path: a 05 to a group
asks only Store.group_members, whose cached answer a change of members drops.

Knows ids, the chat_group, member and group_change tables and the caches; knows
no chat rules.
"""

from dataclasses import dataclass

from peewee import fn

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.models import Group, GroupChange, Member
from interzap_server.storage.numbers import user_number
from interzap_server.storage.runner import Runner
from shared.codes import GroupOp
from shared.ids import number_of, user_id


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """How a group stands, besides its members (Store.group_members)."""

    ts: int  # the key of the 10 that made it
    name: str | None
    admins: tuple[str, ...]  # oldest member first


class Groups:
    """Group changes as plain ids."""

    def __init__(self, runner: Runner, caches: LocalCaches) -> None:
        self._runner = runner
        self._caches = caches

    def info(self, group: str) -> GroupInfo:
        """The group's key ts, name and admins (the group exists)."""
        number = number_of(group)
        ((ts, name),) = self._runner.query(Group.select(Group.ts, Group.name)
                                           .where(Group.id == number))
        rows = self._runner.query(Member.select(Member.user)
                                  .where((Member.group == number) & (Member.admin == True))  # noqa: E712
                                  .order_by(Member.position))
        return GroupInfo(int(ts), name, tuple(user_id(user) for (user,) in rows))

    def change(self, group: str, actor: str, ts: int) -> tuple[str, str] | None:
        """The (op, arg) of the 23 with this key, if the server carried it out."""
        rows = self._runner.query(GroupChange.select(GroupChange.op, GroupChange.arg)
                                  .where((GroupChange.group == number_of(group))
                                         & (GroupChange.actor == user_number(actor))
                                         & (GroupChange.ts == ts)))
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def record(self, group: str, actor: str, ts: int, op: str, arg: str, now: int) -> None:
        """Keep the key of a 23 carried out, with what it did."""
        self._runner.execute(GroupChange.insert(group=number_of(group), actor=user_number(actor),
                                                ts=ts, op=op, arg=arg, made=now))

    def added_since(self, group: str, since: int) -> set[str]:
        """Who was last added to the group (a 23 of op A) at server time `since` or later."""
        rows = self._runner.query(GroupChange.select(GroupChange.arg)
                                  .where((GroupChange.group == number_of(group))
                                         & (GroupChange.op == GroupOp.ADD)
                                         & (GroupChange.made >= since)))
        return {str(arg) for (arg,) in rows}

    def rename(self, group: str, name: str) -> None:
        self._runner.execute(Group.update(name=name).where(Group.id == number_of(group)))

    def add(self, group: str, user: str) -> None:
        """`user` joins the group as its newest member."""
        number = number_of(group)
        last = self._runner.query(Member.select(fn.MAX(Member.position))
                                  .where(Member.group == number))
        self._runner.execute(Member.insert(group=number, user=user_number(user),
                                           position=int(last[0][0]) + 1, admin=False))
        self._caches.forget_members(group)

    def remove(self, group: str, user: str) -> None:
        """`user` is no longer a member (removed, or left)."""
        self._runner.execute(Member.delete().where((Member.group == number_of(group))
                                                   & (Member.user == user_number(user))))
        self._caches.forget_members(group)

    def set_admin(self, group: str, user: str, admin: bool) -> None:
        self._runner.execute(Member.update(admin=admin)
                             .where((Member.group == number_of(group))
                                    & (Member.user == user_number(user))))
