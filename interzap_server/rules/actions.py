"""The rules of 31 (act): reply to, edit, delete or react to a message (PROTOCOL.md 5.11).

A 31 travels the path of a 05: its own key (src, dst, ts) is remembered in the
key table (a retransmission is answered 16 again and delivered once), it is
answered 16 once committed, and it is queued for every other participant as a
32, the 31's line with the code replaced, which each recipient acknowledges
with a 12 of the 31's key; the last 12 owes its author a 07 (messages.receipt).

What a 31 may do depends on the message it refers to, (ref-src, the chat,
ref-ts): the key table says whether it was accepted and when. Only its
author edits (EDIT_WINDOW) or deletes (DELETE_WINDOW) it, counted from the
earlier of its ts and the time it was accepted, so neither a ts that ran
ahead nor a slow queue stretches the window; anyone in the chat replies and
reacts. Beyond KEY_MEMORY the key is forgotten and the server cannot tell a
message it forgot from one it never had: a reply or reaction to a ts that old
is let through (the chat is still checked), an edit or deletion is too late
anyway. A deletion also rewrites what still waits in the queues with the
message's text (its 06, the author's edits of it) to TOMBSTONE, so the text is
gone from the server before the recipient is next online.

Knows keys, chats, the windows and the kinds; knows no sockets and no SQL.
"""

from collections.abc import Sequence

from interzap_server.rules import info
from interzap_server.rules.accounts import require_user
from interzap_server.rules.blocks import refuses
from interzap_server.rules.context import KEY_MEMORY, Context, Unit
from interzap_server.rules.groups import members
from shared import events as ev
from shared.codec import Side, decode, encode_decoded, relay_as_acted
from shared.codes import DELETE_WINDOW, EDIT_WINDOW, TOMBSTONE, ActKind, ErrorCode
from shared.errors import RemoteProtocolError
from shared.ids import is_group_id
from shared.reactions import reaction_problem

Original = tuple[str, str, int]
"""The key (src, dst, ts) of the message a 31 refers to."""

_WINDOWS = {ActKind.EDIT: (EDIT_WINDOW, "edited for 15 minutes"),
            ActKind.DELETE: (DELETE_WINDOW, "deleted for 48 hours")}


def act(ctx: Context, unit: Unit, event: ev.Act) -> None:
    """31: checked, remembered by its key and owed as a 32 to the chat's other members;
    a known key (a retransmission) changes nothing; either way 16."""
    me = unit.user
    if event.src != me:
        raise RemoteProtocolError(ErrorCode.NOT_YOU, f"you are {me}, not {event.src}")
    recipients, original = _chat(ctx, me, event)
    store = ctx.store
    accepted = encode_decoded(ev.Accepted, event.dst, event.ts)
    if store.message_known(me, event.dst, event.ts):  # a retransmission (5.2)
        ctx.reply(unit, accepted)
        return
    _check_text(event)
    recipients = _audience(ctx, event, recipients, original,
                           _check_reference(ctx, me, event, original))
    if not is_group_id(event.dst) and refuses(ctx, event.dst, me):  # as a 05 (5.8)
        ctx.reply(unit, accepted)
        return
    full = store.full_queue(recipients, ctx.max_queue)
    if full is not None:
        raise RemoteProtocolError(
            ErrorCode.QUEUE_FULL, f"{full} has {ctx.max_queue} undelivered frames; try again later")
    key = store.add_message(me, event.dst, event.ts, ctx.now)
    if key is not None:
        if event.kind == ActKind.DELETE:
            _erase_queued(ctx, recipients, original)
        ctx.owe(unit, recipients, relay_as_acted(unit.line), key)
    ctx.reply(unit, accepted)


def _chat(ctx: Context, me: str, event: ev.Act) -> tuple[list[str], Original]:
    """The chat's other members (13/05, 13/07) and the referred message's key (13/31 if
    its author is not in a 1:1 chat)."""
    if is_group_id(event.dst):
        others = [m for m in members(ctx, event.dst, me) if m != me]
        return others, (event.ref_src, event.dst, event.ref_ts)
    require_user(ctx, event.dst)
    if event.ref_src == me:
        return [event.dst], (me, event.dst, event.ref_ts)
    if event.ref_src == event.dst:
        return [event.dst], (event.dst, me, event.ref_ts)
    raise RemoteProtocolError(ErrorCode.UNKNOWN_MESSAGE,
                              f"{event.ref_src} wrote nothing in your chat with {event.dst}")


def _check_text(event: ev.Act) -> None:
    """What each kind carries: a text (R, E), none (D), one emoji or none (X)."""
    if event.kind in (ActKind.REPLY, ActKind.EDIT) and not event.text:
        raise RemoteProtocolError(ErrorCode.INVALID_TEXT, "the text is empty")
    if event.kind == ActKind.DELETE and event.text:
        raise RemoteProtocolError(ErrorCode.INVALID_TEXT, "a deletion carries no text")
    if event.kind == ActKind.REACT and event.text:
        problem = reaction_problem(event.text)
        if problem:
            raise RemoteProtocolError(ErrorCode.INVALID_REACTION, problem)


def _audience(ctx: Context, event: ev.Act, recipients: list[str], original: Original,
              accepted: int | None) -> list[str]:
    """Who gets the 32: in a group, an edit, deletion or reaction goes to none of those
    added after the message who never had it (its new text would be a message from
    before they came); a reply is a new message, for every member."""
    if event.kind == ActKind.REPLY or accepted is None or not is_group_id(event.dst):
        return recipients
    late = info.latecomers(ctx, original, accepted, recipients)
    return [r for r in recipients if r not in late]


def _check_reference(ctx: Context, me: str, event: ev.Act, original: Original) -> int | None:
    """13/29 not the author, 13/30 too late, 13/31 unknown message, in that order; when
    the message was accepted (None: forgotten, a reply or reaction let through)."""
    accepted = ctx.store.acts.accepted(*original)
    window = _WINDOWS.get(ActKind(event.kind))
    if window is not None:
        if event.ref_src != me:
            raise RemoteProtocolError(
                ErrorCode.NOT_AUTHOR,
                f"only its author may change {event.ref_src}'s message")
        sent = event.ref_ts if accepted is None else min(event.ref_ts, accepted)
        if ctx.now > sent + window[0]:
            raise RemoteProtocolError(
                ErrorCode.TOO_LATE, f"a message can be {window[1]} after it was sent")
    elif accepted is None and event.ref_ts < ctx.now - KEY_MEMORY:
        return None  # forgotten, or never was: the server cannot tell (see above)
    if accepted is None:
        raise RemoteProtocolError(
            ErrorCode.UNKNOWN_MESSAGE,
            f"there is no message {event.ref_src} {event.ref_ts} in this chat")
    return accepted


def _erase_queued(ctx: Context, recipients: Sequence[str], original: Original) -> None:
    """A deletion: the queued 06 of the original and the author's queued edits of it keep
    their place and key, and lose their text (TOMBSTONE); the 32 D follows them."""
    src, dst, ts = original
    acts = ctx.store.acts
    for place, frame in acts.queued_since(recipients, src, dst, ts):
        queued = decode(frame.rstrip("\n").encode("utf-8"), Side.SERVER)
        if isinstance(queued, ev.Deliver) and queued.ts == ts:
            acts.rewrite(place, encode_decoded(ev.Deliver, src, dst, ts, TOMBSTONE))
        elif (isinstance(queued, ev.Acted) and queued.kind == ActKind.EDIT
              and (queued.ref_src, queued.ref_ts) == (src, ts)):
            acts.rewrite(place, encode_decoded(ev.Acted, *_fields(queued, TOMBSTONE)))


def _fields(event: ev.Acted, text: str) -> tuple[object, ...]:
    return (event.src, event.dst, event.ts, event.kind, event.ref_src, event.ref_ts, text)
