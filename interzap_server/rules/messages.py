"""The rules of messages: 05 send (16 to the author, 06 to each recipient but one who
blocks the author), 12 receipt (07 to the author once every copy is acknowledged).

Knows message keys, queues and their limit; knows no sockets and no SQL.
"""

from interzap_server.rules.accounts import require_user
from interzap_server.rules.blocks import refuses
from interzap_server.rules.context import Context, Unit
from interzap_server.rules.groups import members
from interzap_server.rules.names import meet
from shared import events as ev
from shared.codec import accepted_for, delivered_for, relay_as_deliver
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError
from shared.ids import is_group_id


def send(ctx: Context, unit: Unit, event: ev.Send) -> None:
    """05: a new key is stored and owed to each recipient; a known key (a retransmission,
    PROTOCOL.md 5.2) changes nothing; either way 16."""
    me = unit.user
    if event.src != me:
        raise RemoteProtocolError(ErrorCode.NOT_YOU, f"you are {me}, not {event.src}")
    grouped = is_group_id(event.dst)
    if grouped:
        recipients = [m for m in members(ctx, event.dst, me) if m != me]
    else:
        require_user(ctx, event.dst)
        if refuses(ctx, event.dst, me):  # blocked: answered as ever, and dropped (5.8)
            ctx.reply(unit, accepted_for(unit.line))
            return
        recipients = [event.dst]
    # one INSERT tells a new key from a retransmission; a full queue refuses only new keys
    store = ctx.store
    full = store.full_queue(recipients, ctx.max_queue)
    if full is None:
        message = store.add_message(event.src, event.dst, event.ts, ctx.now)
        if message is not None:
            if not grouped:
                meet(ctx, unit, me, event.dst)  # 22s at a pair's first message (5.9)
            ctx.owe(unit, recipients, relay_as_deliver(unit.line), message)
    elif not store.message_known(event.src, event.dst, event.ts):
        raise RemoteProtocolError(
            ErrorCode.QUEUE_FULL,
            f"{full} has {ctx.max_queue} undelivered frames; try again later")
    ctx.reply(unit, accepted_for(unit.line))


def receipt(ctx: Context, unit: Unit, event: ev.Receipt) -> None:
    """12: the copy leaves the queue; the last copy of a message owes its author a 07."""
    # a group copy's receipt is kept with the 12's time, for 25 (rules/info.py)
    remaining = ctx.store.acknowledge(unit.user, event.src, event.dst, event.ts, ctx.now)
    if remaining is None:
        unit.session.link.strike()  # 12s are free only while they acknowledge something
        return
    if remaining == 0:
        ctx.owe(unit, [event.src], delivered_for(unit.line))
