"""/reply, /edit, /delete, /react: a 31 about a chosen message, journaled as pending, then
sent (or kept in the outbox until it can be), as a new message is.

The client refuses at once what the server would refuse (not your message, too
late, not one emoji), so that a mistake is said before anything is queued; the
server checks again (PROTOCOL.md 5.11). A reaction toggles: the one you already
gave, given again, is taken back (a 31 with no text).

Refuses to know about sockets, files and how anything is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interzap_client.conversations import Message, Tick
from interzap_client.lines import to_wire
from interzap_client.message_acts import Act
from interzap_client.session.errors import SessionError
from shared.codes import DELETE_WINDOW, EDIT_WINDOW, ActKind
from shared.fields import text_problem
from shared.reactions import reaction_problem

if TYPE_CHECKING:
    from interzap_client.session.facade import Session

_CHANGES = {ActKind.EDIT: ("edit", EDIT_WINDOW, "15 minutes"),
            ActKind.DELETE: ("delete", DELETE_WINDOW, "48 hours")}


def problem(me: str, message: Message, kind: ActKind, text: str, now: int) -> str | None:
    """Why we cannot send this act about `message`, or None. The windows count from when
    the message was sent as far as we know (Message.shown_at)."""
    if message.deleted:
        return "that message was deleted"
    if kind in (ActKind.REPLY, ActKind.EDIT) and (said := text_problem(text)):
        return f"cannot send: {said}"
    if kind == ActKind.REACT:
        return reaction_problem(text)
    change = _CHANGES.get(kind)
    if change is None:
        return None
    verb, window, words = change
    if message.src != me:
        return f"you can only {verb} your own messages"
    if message.tick is None or message.tick < Tick.ACCEPTED:
        return f"the server does not have that message yet (no ✓): {verb} it once it has"
    if now > message.shown_at + window:
        return f"too late: a message can be {verb}ed for {words} after it was sent"
    return None


def _my_reaction(session: Session, message: Message) -> str:
    """Our newest reaction to `message`, given or still on its way ("" none)."""
    state = session.need_state()
    conv = state.conversation(state.peer_of(message.src, message.dst))
    for act in reversed(conv.acts):
        if (act.own and act.kind == ActKind.REACT and act.tick is not Tick.FAILED
                and (act.ref_src, act.ref_ts) == (message.src, message.ts)):
            return act.text
    return ""


def act_on(session: Session, message: Message, kind: ActKind, text: str = "") -> Message | Act:
    """Journal a reply (a message) or an edit, deletion or reaction (an act) about `message`
    as pending, and hand it to the outbox. A reply's or an edit's line breaks, however
    written, go as U+2028, as a message's do (lines.py)."""
    history, state = session.need_history(), session.need_state()
    me, now = state.me, session.now()
    if kind in (ActKind.REPLY, ActKind.EDIT):
        text = to_wire(text)
    if message.deleted:
        raise SessionError("that message was deleted")
    if kind == ActKind.REACT and text and _my_reaction(session, message) == text:
        text = ""  # the same again: taken back
    said = problem(me, message, kind, text, now) if text or kind != ActKind.REACT else None
    if said:
        raise SessionError(said)
    peer = state.peer_of(message.src, message.dst)
    ts = state.next_ts(peer, now)
    key = (me, peer, ts)
    item: Message | Act
    if kind == ActKind.REPLY:
        history.apply("msg", durable=True, src=me, dst=peer, ts=ts, text=text,
                      tick=int(Tick.PENDING), at=now, reply=[message.src, message.ts])
        item = state.messages[key]
        session.live.presence.stopped_typing(peer)  # as after a message: typing again says so
    else:
        history.apply("act", durable=True, src=me, dst=peer, ts=ts, kind=str(kind),
                      ref_src=message.src, ref_ts=message.ts, text=text,
                      tick=int(Tick.PENDING), at=now)
        item = state.acts[key]
    session.outbox.submit(item)
    return item
