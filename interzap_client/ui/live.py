"""The live parts of the screen: who is typing or whether the peer is online, in the chat
header, and the /info panel.

Read from the session's Presence (presence.py) at every repaint, with the
session's clock, so a typing notice goes once its time is up, with no timer
of its own here (app.py only asks for the repaint). Refuses to know about the
network, the keys and the layout's containers.
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from interzap_client.message_acts import shown_text
from interzap_client.presence import presence_words, receipt_words, typing_words
from interzap_client.session import Session
from interzap_client.ui.pager import Line
from interzap_client.ui.panels import CLOSE
from interzap_client.ui.view import Panel, View
from interzap_client.ui.words import person
from shared.ids import is_group_id


def header_status(view: View) -> StyleAndTextTuples:
    """After the open chat's name: "bob, carol are typing…", else for a 1:1 chat
    "online" or "last seen 14:03" (nothing while hidden or unknown)."""
    session = view.session
    state, peer = session.state, session.open_peer
    if state is None or peer is None:
        return []
    now = session.clock()
    presence = session.live.presence
    typing = typing_words(person(state, user) for user in presence.typists(peer, now))
    if typing:
        return [("class:header.typing", f"  {typing}")]
    seen = None if is_group_id(peer) else presence_words(presence.seen.get(peer), now)
    return [("class:header.presence", f"  {seen}")] if seen else []


def info_panel(session: Session, group: str, ts: int) -> Panel | None:
    """/info's answer: the message as the chat shows it (newest text, or the tombstone),
    then a line per other member, delivered and read with their times."""
    state, states = session.state, session.live.receipts(group, ts)
    if state is None or states is None:
        return None
    message = next((shown_text(m) for m in state.conversation(group).messages
                    if m.own and m.ts == ts), "")
    lines: list[Line] = [[("class:panel.note", message)]]
    lines += [[("class:panel.command", receipt_words(person(state, member), delivered, read))]
              for member, delivered, read in states]
    return Panel(f"info · {CLOSE}", tuple(lines))
