"""The screen: a conversation list, the open conversation, a status bar and the input line.

    +-- chats -------------+--------------------------------------+
    | bob      (2) 12:03   | bob                                  |
    | # team         11:40 | 12:01 you: hi ✓✓                      |
    |                      | 12:03 bob: hello                      |
    +----------------------+--------------------------------------+
    | Client-000001 | 127.0.0.1:9070 | connected | last note         |
    | > the line being typed                                       |

The list takes about a quarter of the width (at most LIST_WIDTH columns) and
hides below NARROW columns, so a small terminal is all chat. The chat's title
stays on its own row; /help and /contacts open a panel over the chat. Each
pane computes its text from the View at every repaint (ptpython's split:
state owns the data, the layout only reads it), so an arrival never touches
the input buffer. Refuses to know about the network and the chat rules.
"""

from __future__ import annotations

import time

from prompt_toolkit.application import get_app
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout import (
    ConditionalContainer,
    Float,
    FloatContainer,
    HSplit,
    Layout,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.widgets import Frame, TextArea

from interzap_client.conversations import Conversation, Message, Tick
from interzap_client.message_acts import quote, reaction_counts, shown_text
from interzap_client.people import Note, words
from interzap_client.state import State
from interzap_client.ui.live import header_status
from interzap_client.ui.pager import Line, PagedControl
from interzap_client.ui.style import TICKS
from interzap_client.ui.view import FOUND, SELECTED, View, marked
from interzap_client.ui.words import local_time, people, person

LIST_WIDTH = 30
"""The widest the conversation list gets."""
NARROW = 50
"""Below this many columns the list is hidden: the chat gets the whole width."""
WIDE = 72
"""From this many columns on, the status bar names our id and the server too (narrower,
the connection and the latest note need the room)."""
PROMPT = "> "


def list_width(columns: int) -> int:
    """Columns for the conversation list in a terminal this wide (0: hidden)."""
    return 0 if columns < NARROW else min(LIST_WIDTH, max(20, columns * 3 // 10))


def _columns() -> int:
    return get_app().output.get_size().columns


def listed(state: State, open_peer: str | None) -> list[Conversation]:
    """The list's conversations, most recent first: groups, the open one, and every chat
    where a message got through. A chat that never had one (a refused /send to an id
    nobody has, an /open of it) is not listed once you leave it."""
    return [c for c in state.sorted_conversations()
            if c.is_group or c.peer == open_peer
            or any(m.tick is not Tick.FAILED for m in c.messages)]


def _list_entry(state: State, conv: Conversation, width: int, style: str) -> StyleAndTextTuples:
    """` name (unread) time` in `width` columns; the time is left out if the name needs it."""
    name = ("# " if conv.is_group else "") + state.label(conv.peer)
    unread = f" ({conv.unread})" if conv.unread else ""
    when = " " + local_time(conv.last_time) if conv.last_time else ""
    room = width - 2 - len(unread) - len(when)
    if room < len(name):
        when, room = "", width - 2 - len(unread)
    return [(style, " " + name[:max(1, room)].ljust(room)),
            ("class:list.unread " + style, unread),
            ("class:list.time " + style, when + " \n")]


def conversation_list(view: View, width: int = LIST_WIDTH) -> StyleAndTextTuples:
    """One line per listed conversation, most recent first: name, unread count, last time."""
    state, open_peer = view.session.state, view.session.open_peer
    lines: StyleAndTextTuples = [("class:list.title", " chats\n")]
    if state is None:
        return lines
    for conv in listed(state, open_peer):
        style = "class:list.open" if conv.peer == open_peer else "class:list"
        lines.extend(_list_entry(state, conv, width, style))
    return lines


def chat_title(view: View) -> StyleAndTextTuples:
    """The open chat's name (a group's members too); what waits elsewhere if the list is hidden."""
    state, peer = view.session.state, view.session.open_peer
    if state is None or peer is None:
        return [("class:header", "")]
    conv = state.conversation(peer)
    title: StyleAndTextTuples = [("class:header", ("# " if conv.is_group else "")
                                  + state.label(peer))]
    if conv.is_group:
        title.append(("class:header.members", f"  ({people(state, conv.members)})"))
    title.extend(header_status(view))  # typing, online, last seen (live.py)
    waiting = sum(c.unread for c in state.conversations.values() if c.peer != peer)
    if waiting and not list_width(_columns()):
        title.append(("class:list.unread", f"  {waiting} unread elsewhere"))
    return title


MARGIN = " " * len("HH:MM ")
"""Where a reply's quote and a message's reactions start: under the text, past the time."""


def _message_line(state: State, conv: Conversation, m: Message) -> Line:
    line: Line = [("class:time", time.strftime("%H:%M ", time.localtime(m.shown_at)))]
    if m.own:
        line.append(("class:own", "you: "))
    elif conv.is_group:
        line.append(("class:author", f"{person(state, m.src)}: "))
    if m.deleted:
        line.append(("class:deleted", shown_text(m)))
    else:
        line.append(("class:text", m.text))
        if m.edited:
            line.append(("class:edited", "\u00a0(edited)"))
    tick = state.shown_tick(m)
    if tick is not None:
        marks, style = TICKS[tick.name]
        line.append((style, "\u00a0" + marks))  # no break: the ticks stay with the text
    return line


def message_lines(state: State, conv: Conversation, m: Message,
                  mark: str | None = None) -> list[Line]:
    """A message as the chat shows it: the quote of what it answers above it, its line (the
    newest text, "edited", or the tombstone), its reactions with their counts below it."""
    lines: list[Line] = []
    if m.reply is not None:
        original = state.original(m.src, m.dst, *m.reply)
        who = f"{person(state, m.reply[0])}: " if original is not None else ""
        lines.append([("class:quote", f"{MARGIN}┌ {who}{quote(original)}")])
    lines.append(_message_line(state, conv, m))
    counts = reaction_counts(m)
    if counts:
        lines.append([("class:reactions",
                       MARGIN + "  ".join(f"{emoji} {count}" for emoji, count in counts))])
    return lines if mark is None else [marked(line, mark) for line in lines]


def chat_lines(view: View) -> list[Line]:
    """The open conversation, oldest first, a day line when the date changes.

    With no conversation open: the welcome text and the system log.
    """
    session, state = view.session, view.session.state
    if state is None or session.open_peer is None:
        return [[(style, text)] for style, text in view.log]
    conv = state.conversation(session.open_peer)
    lines: list[Line] = []
    day = ""
    notes = state.people.notes.get(conv.peer, [])
    for index, m in enumerate(conv.messages):
        lines += [_note_line(state, n) for n in notes if n.index == index]
        today = time.strftime("%A %d %B %Y", time.localtime(m.shown_at))
        if today != day:
            lines.append([("class:day", f"── {today} ──")])
            day = today
        lines.extend(message_lines(state, conv, m, _mark(view, m)))
    return lines + [_note_line(state, n) for n in notes if n.index >= len(conv.messages)]


def _mark(view: View, m: Message) -> str | None:
    """The style a message's lines get: selected (for /reply and co.), or where a chosen
    search result opened the chat."""
    if m.key == view.session.selected:
        return SELECTED
    return FOUND if m.key == view.found else None


def _note_line(state: State, note: Note) -> Line:
    """A group change between the messages: "── bob added dave ──"."""
    return [("class:day", f"── {words(state, note)} ──")]


def status_line(view: View, columns: int = 80) -> StyleAndTextTuples:
    """Our id and the server (if there is room), connected / reconnecting, the latest note."""
    session = view.session
    bad = session.status != "connected" or not session.logged_in
    state = "connected" if session.logged_in else session.status
    who = f" {session.me or 'not logged in'} │ {session.server} │" if columns >= WIDE else ""
    note = view.note
    return [
        ("class:status", who),
        ("class:status.bad" if bad else "class:status", f" {state} "),
        ("class:status", "│"),
        (note.style, f" {note.text} " if note.text else ""),
    ]


MORE_BELOW: Line = [("class:more", " ↓ newer messages below: PageDown ")]


def _chat_pane(view: View) -> FloatContainer:
    """The title row and the chat, with the /help or /contacts panel floating over both."""
    chat_open = Condition(lambda: view.session.open_peer is not None)
    panel = Frame(
        Window(PagedControl(view.panel_lines,
                            lambda: view.panel_pager,
                            [("class:more", " ↓ more: PageDown ")], lambda: 2)),
        title=lambda: view.panel.title if view.panel else "", style="class:panel",
    )
    return FloatContainer(
        content=HSplit([
            ConditionalContainer(
                Window(FormattedTextControl(lambda: chat_title(view)), height=1),
                filter=chat_open),
            Window(PagedControl(lambda: chat_lines(view), view.chat, MORE_BELOW,
                                lambda: len("HH:MM ") if chat_open() else 0)),
        ]),
        floats=[Float(ConditionalContainer(panel, Condition(lambda: view.panel is not None)),
                      top=0, bottom=0, left=0, right=0)],
    )


def _list_pane(view: View) -> ConditionalContainer:
    """The conversation list and its separator, as wide as list_width() says (or hidden)."""
    return ConditionalContainer(
        VSplit([
            Window(FormattedTextControl(lambda: conversation_list(view, list_width(_columns()))),
                   width=lambda: list_width(_columns()), style="class:list"),
            Window(width=1, char="│", style="class:separator"),
        ]),
        filter=Condition(lambda: list_width(_columns()) > 0),
    )


def build_layout(view: View, input_area: TextArea) -> Layout:
    """The whole screen; the input line has the focus.

    The prompt is a window of its own beside the input: as the input's prompt it
    would scroll away with a line wider than the screen, and not come back.
    """
    screen = HSplit([
        VSplit([_list_pane(view), _chat_pane(view)]),
        Window(FormattedTextControl(lambda: status_line(view, _columns())), height=1,
               style="class:status"),
        VSplit([Window(FormattedTextControl([("class:prompt", PROMPT)]), width=len(PROMPT)),
                input_area]),
    ])
    root = FloatContainer(
        content=screen,
        floats=[Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=8))],
    )
    return Layout(root, focused_element=input_area)
