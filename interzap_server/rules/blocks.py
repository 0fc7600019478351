"""The rules of blocks: 17 block, 18 unblock, each answered with the whole list (19).

A block stops the blocked user's 1:1 messages to the blocker (messages.py:
answered 16 as ever, then dropped) and their adding the blocker to a new group
(groups.py: 13/19). Nothing tells the blocked user: PROTOCOL.md 5.8.

Knows who blocks whom; knows no sockets and no SQL.
"""

from interzap_server.rules.accounts import require_user
from interzap_server.rules.context import Context, Unit
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError


def block(ctx: Context, unit: Unit, event: ev.Block) -> None:
    """17: `user` is blocked (again: no change); 19 with everyone blocked."""
    me = _other(ctx, unit, event.user, "block")
    ctx.store.blocks.block(me, event.user)
    _answer(ctx, unit, me)


def unblock(ctx: Context, unit: Unit, event: ev.Unblock) -> None:
    """18: `user` is no longer blocked (if they were); 19 with everyone still blocked."""
    me = _other(ctx, unit, event.user, "unblock")
    ctx.store.blocks.unblock(me, event.user)
    _answer(ctx, unit, me)


def refuses(ctx: Context, user: str, sender: str) -> bool:
    """Whether `user` takes nothing from `sender` (a 1:1 message, being added to a group)."""
    return ctx.store.blocks.blocks(user, sender)


def _other(ctx: Context, unit: Unit, user: str, verb: str) -> str:
    """The sender's id, once `user` is known to be someone else who exists (13/19, 13/05)."""
    me = unit.user
    if user == me:
        raise RemoteProtocolError(ErrorCode.NOT_PERMITTED, f"you cannot {verb} yourself")
    require_user(ctx, user)
    return me


def _answer(ctx: Context, unit: Unit, me: str) -> None:
    ctx.reply(unit, encode(ev.BlockList(ctx.store.blocks.blocked_by(me))))
