"""The rules of group changes: 23 rename, add, remove, promote, demote, leave, each told
to every member (and to whom it removes) as a 24 (PROTOCOL.md 5.10).

The creator is the first admin. Admins rename, add (up to the cap), remove,
promote and demote; anyone leaves; the last admin leaving hands admin to the
oldest member left. The actor is answered with its 24 at once (like a 16);
everyone else is owed it through their queue, in order with the group's 06s.
A change carried out is kept by its key (group, actor, ts): the same 23 again
is answered with the same 24 and changes nothing.

Knows members, admins and group names; knows no sockets and no SQL.
"""

from collections.abc import Callable
from dataclasses import dataclass

from interzap_server.rules import reads
from interzap_server.rules.accounts import require_user
from interzap_server.rules.blocks import refuses
from interzap_server.rules.context import Context, Unit
from interzap_server.rules.groups import members
from interzap_server.rules.names import introduce
from interzap_server.storage.groups import GroupInfo
from shared import events as ev
from shared.codec import encode, name_problem
from shared.codes import MAX_GROUP_MEMBERS, ErrorCode, GroupOp
from shared.errors import RemoteProtocolError, malformed
from shared.ids import is_user_id

ADMIN_ONLY = frozenset({GroupOp.RENAME, GroupOp.ADD, GroupOp.REMOVE, GroupOp.PROMOTE,
                        GroupOp.DEMOTE})
ON_A_USER = frozenset({GroupOp.ADD, GroupOp.REMOVE, GroupOp.PROMOTE, GroupOp.DEMOTE})
FULL = MAX_GROUP_MEMBERS + 1
"""People in a full group: the creator and the most members a 10 may list."""


@dataclass(frozen=True, slots=True)
class Change:
    """One 23 being carried out: the group as it stood before."""

    ctx: Context
    group: str
    actor: str
    arg: str
    before: tuple[str, ...]
    info: GroupInfo

    def wrong(self, why: str) -> RemoteProtocolError:
        return RemoteProtocolError(ErrorCode.WRONG_MEMBER, why)

    def member(self) -> None:
        """The arg is a member (13/26)."""
        if self.arg not in self.before:
            raise self.wrong(f"{self.arg} is not a member of {self.group}")


def change(ctx: Context, unit: Unit, event: ev.GroupChange) -> None:
    """23: checked, carried out, kept by its key, and told: 24 to the actor at once, to
    everyone else who was or is a member through the queue."""
    me, groups = unit.user, ctx.store.groups
    done = groups.change(event.group, me, event.ts)
    if done is not None:  # a retransmission: the same answer, nothing changes
        ctx.reply(unit, encode(ev.GroupEvent(event.group, event.ts, me, *done)))
        return
    op = _op(event)
    before = members(ctx, event.group, me)
    info = groups.info(event.group)
    if op in ADMIN_ONLY and me not in info.admins:
        raise RemoteProtocolError(ErrorCode.NOT_ADMIN,
                                  f"only an admin of {event.group} may do that")
    step = Change(ctx, event.group, me, event.arg, before, info)
    follow = _APPLY[op](step)
    groups.record(event.group, me, event.ts, op, event.arg, ctx.now)
    after = ctx.store.group_members(event.group) or ()
    if op is GroupOp.ADD:
        _welcome(ctx, unit, step, after)
        introduce(ctx, unit, after, (event.arg,))
        reads.joined(ctx, event.group, event.arg)
    frame = encode(ev.GroupEvent(event.group, event.ts, me, op, event.arg))
    ctx.owe(unit, [m for m in dict.fromkeys((*after, *before)) if m != me], frame)
    ctx.reply(unit, frame)
    for later_op, arg in follow:  # the handover when the last admin leaves
        ctx.owe(unit, after, encode(ev.GroupEvent(event.group, event.ts, me, later_op, arg)))
    if op in (GroupOp.REMOVE, GroupOp.LEAVE):
        reads.went(ctx, unit, event.group, before, after)  # after the 24: a 09 it made


def _op(event: ev.GroupChange) -> GroupOp:
    """The op, once its arg has the right form (13/01, 13/24)."""
    op = GroupOp(event.op)
    if op in (GroupOp.NAMED, GroupOp.ADMIN):
        raise malformed(f"op {op.value} is sent by the server only")
    if op in ON_A_USER and not is_user_id(event.arg):
        raise malformed(f"op {op.value} names a user id like Client-000001")
    if op is GroupOp.LEAVE and event.arg:
        raise malformed("op L takes no argument")
    if op is GroupOp.RENAME:
        problem = name_problem(event.arg)
        if problem:
            raise RemoteProtocolError(ErrorCode.INVALID_NAME, problem)
    return op


Follow = list[tuple[GroupOp, str]]
"""24s owed after the change's own: (op, arg)."""


def _rename(step: Change) -> Follow:
    step.ctx.store.groups.rename(step.group, step.arg)
    return []


def _add(step: Change) -> Follow:
    """13/05 no such user, 13/26 a member already, 13/25 full, 13/19 blocks the adder."""
    require_user(step.ctx, step.arg)
    if step.arg in step.before:
        raise step.wrong(f"{step.arg} is a member of {step.group} already")
    if len(step.before) >= FULL:
        raise RemoteProtocolError(ErrorCode.GROUP_FULL,
                                  f"{step.group} has {FULL} people, the most a group has")
    if refuses(step.ctx, step.arg, step.actor):  # as for a 10 (PROTOCOL.md 5.8)
        raise RemoteProtocolError(ErrorCode.NOT_PERMITTED,
                                  f"cannot add {step.arg} to a group")
    step.ctx.store.groups.add(step.group, step.arg)
    return []


def _remove(step: Change) -> Follow:
    if step.arg == step.actor:
        raise step.wrong("to leave a group, leave it (op L)")
    step.member()
    step.ctx.store.groups.remove(step.group, step.arg)
    return []


def _promote(step: Change) -> Follow:
    step.member()
    if step.arg in step.info.admins:
        raise step.wrong(f"{step.arg} is an admin already")
    step.ctx.store.groups.set_admin(step.group, step.arg, True)
    return []


def _demote(step: Change) -> Follow:
    step.member()
    if step.arg not in step.info.admins:
        raise step.wrong(f"{step.arg} is not an admin")
    if step.info.admins == (step.arg,):
        raise RemoteProtocolError(ErrorCode.NOT_PERMITTED,
                                  "a group keeps an admin: promote someone else first")
    step.ctx.store.groups.set_admin(step.group, step.arg, False)
    return []


def _leave(step: Change) -> Follow:
    """The actor goes; if they were the last admin, the oldest member left becomes one."""
    groups = step.ctx.store.groups
    groups.remove(step.group, step.actor)
    left = [m for m in step.before if m != step.actor]
    if step.info.admins != (step.actor,) or not left:
        return []
    groups.set_admin(step.group, left[0], True)
    return [(GroupOp.PROMOTE, left[0])]


_APPLY: dict[GroupOp, Callable[[Change], Follow]] = {
    GroupOp.RENAME: _rename, GroupOp.ADD: _add, GroupOp.REMOVE: _remove,
    GroupOp.PROMOTE: _promote, GroupOp.DEMOTE: _demote, GroupOp.LEAVE: _leave,
}


def _welcome(ctx: Context, unit: Unit, step: Change, after: tuple[str, ...]) -> None:
    """What a member just added is owed before the 24 of it: the group as an 11 (its ts,
    the members oldest first), its name and its admins (24s with op n and a)."""
    newcomer, info = step.arg, step.info
    ctx.owe(unit, [newcomer], encode(ev.GroupCreated(step.group, info.ts, after)))
    states = [(GroupOp.NAMED, info.name)] if info.name else []
    states += [(GroupOp.ADMIN, admin) for admin in info.admins]
    for op, arg in states:
        ctx.owe(unit, [newcomer], encode(ev.GroupEvent(step.group, info.ts, step.actor, op, arg)))
