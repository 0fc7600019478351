"""The rule of message info: 25 "who got and read my group message", answered by 26
(PROTOCOL.md 5.12), and the times it is answered from.

Answered from what the server keeps anyway: a copy still queued is not
delivered; who was added since and has no copy never had it (latecomers(), also
for the 32s about the message: rules/actions.py); the read marks say who read
up to the message; the times come from the group receipts that the store keeps
for group 12s (Store.acknowledge) and 08s (storage/receipts.py). Nothing here
runs for a 1:1 message.

Knows group members, read marks and receipts through the store; knows no
sockets and no SQL.
"""

from collections.abc import Sequence

from interzap_server.rules.context import Context, Unit
from interzap_server.rules.groups import members
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError
from shared.ids import is_group_id


def info(ctx: Context, unit: Unit, event: ev.Info) -> None:
    """25: per other member, when my message reached their client and when they read it
    (0: not yet); 13/27 for a message that is not mine or no longer known."""
    me, group, ts = unit.user, event.group, event.ts
    others = [m for m in members(ctx, group, me) if m != me]
    store = ctx.store
    accepted = store.acts.accepted(me, group, ts)
    if accepted is None:
        raise RemoteProtocolError(ErrorCode.NOT_YOUR_MESSAGE,
                                  f"no message of yours to {group} at {ts:010d}")
    late = latecomers(ctx, (me, group, ts), accepted, others)
    times = store.receipts.of(group, me, ts)
    owed = store.copies_owed(group, me, ts, others)
    marks = store.marks.read_marks(group, me)
    states = []
    for member in (m for m in others if m not in late):
        delivered, read = times.get(member, (0, 0))
        if not delivered and member not in owed:
            delivered = ts  # acknowledged before its time was kept: say when it was sent
        if not read and delivered and marks.get(member, 0) >= ts:
            read = delivered
        states.append((member, delivered, read))
    ctx.reply(unit, encode(ev.InfoAnswer(group, ts, tuple(states))))


def latecomers(ctx: Context, message: tuple[str, str, int], accepted: int,
               members: Sequence[str]) -> set[str]:
    """Those of `members` added to the group after the message (src, group, ts) was accepted
    who never had it (no receipt of it, no copy of it owed): not members when it was sent."""
    src, group, ts = message
    store = ctx.store
    added = store.groups.added_since(group, accepted).intersection(members)
    if not added:
        return set()
    had = store.receipts.of(group, src, ts).keys() | store.copies_owed(group, src, ts,
                                                                      sorted(added))
    return added - had


def read(ctx: Context, dst: str, author: str, reader: str, before: int, upto: int) -> None:
    """After an 08 moved `reader`'s mark on `author`'s messages to a group from `before`
    to `upto`: when those were read, for 25."""
    if is_group_id(dst):
        ctx.store.receipts.read(dst, author, reader, before, upto, ctx.now)
