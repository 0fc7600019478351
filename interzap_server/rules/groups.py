"""The rules of groups: 10 create a group (11 to every member), and who is in one.

Knows group ids, members and error 08's limits; knows no messages, no sockets
and no SQL.
"""

import logging
from collections.abc import Sequence

from interzap_server.rules.accounts import require_user
from interzap_server.rules.blocks import refuses
from interzap_server.rules.context import Context, Unit
from interzap_server.rules.names import introduce
from shared import events as ev
from shared.codec import encode
from shared.codes import MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS, ErrorCode
from shared.errors import RemoteProtocolError

log = logging.getLogger(__name__)


def members(ctx: Context, group: str, user: str) -> tuple[str, ...]:
    """The group's members, oldest first, if `user` is one of them (else 13/05 or 13/07)."""
    found = ctx.store.group_members(group)
    if found is None:
        raise RemoteProtocolError(ErrorCode.UNKNOWN_PEER, f"there is no group {group}")
    if user not in found:
        raise RemoteProtocolError(ErrorCode.NOT_A_MEMBER, f"you are not a member of {group}")
    return found


def create(ctx: Context, unit: Unit, event: ev.CreateGroup) -> None:
    """10: a new group and an 11 to each member; the same (creator, ts) again: its 11 again."""
    me = unit.user
    if event.creator != me:
        raise RemoteProtocolError(ErrorCode.NOT_YOU, f"you are {me}, not {event.creator}")
    people = (me, *event.members)
    existing = ctx.store.find_group(me, event.ts)
    if existing is not None:
        ctx.reply(unit, encode(ev.GroupCreated(existing, event.ts, members(ctx, existing, me))))
        return
    _check_members(me, event.members)
    for member in event.members:
        require_user(ctx, member)
        if refuses(ctx, member, me):  # says no more than WhatsApp does (PROTOCOL.md 5.8)
            raise RemoteProtocolError(ErrorCode.NOT_PERMITTED,
                                      f"cannot add {member} to a group")
    group = ctx.store.create_group(me, event.ts, people, ctx.now)
    log.info("%s created %s with %d members", me, group, len(people))
    ctx.owe(unit, people, encode(ev.GroupCreated(group, event.ts, people)))
    introduce(ctx, unit, people, people)  # everyone's name to everyone (PROTOCOL.md 5.9)


def _check_members(creator: str, listed: Sequence[str]) -> None:
    """The rules of error 08: 1 to 8 members, no duplicate, the creator not listed."""
    if not MIN_GROUP_MEMBERS <= len(listed) <= MAX_GROUP_MEMBERS:
        raise RemoteProtocolError(ErrorCode.INVALID_GROUP,
                                  f"a group lists {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} "
                                  f"members besides you, not {len(listed)}")
    if len(set(listed)) != len(listed):
        raise RemoteProtocolError(ErrorCode.INVALID_GROUP, "a member is listed twice")
    if creator in listed:
        raise RemoteProtocolError(ErrorCode.INVALID_GROUP,
                                  "do not list yourself: the creator is added anyway")
