"""The screen: a conversation list, the open conversation, a status bar and the input line.

    +-- chats -----------+----------------------------------------+
    | bob      (2) 12:03 | 12:01 you: hi ✓✓                        |
    | Group-0000001 11:40| 12:03 bob: hello                        |
    +--------------------+----------------------------------------+
    | Client-000001 | 127.0.0.1:9070 | connected | last notice     |
    | > the line being typed                                       |

Each pane is a FormattedTextControl whose text is computed from the View at
every repaint (ptpython's split: state owns the data, the layout only reads
it), so an arrival never touches the input buffer. Refuses to know about the
network and the chat rules.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from prompt_toolkit.data_structures import Point
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout import (
    Float,
    FloatContainer,
    HSplit,
    Layout,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.widgets import TextArea

from interzap_client.session import Session
from interzap_client.state import Conversation, Message
from interzap_client.ui.style import TICKS

LIST_WIDTH = 30


@dataclass
class View:
    """What the screen shows besides the session's state: the system log, scrolling."""

    session: Session
    log: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=500))
    note: tuple[str, str] = ("", "")  # (style, text) shown at the right of the status bar
    scroll: int = 0  # lines scrolled up from the newest message
    body_window: Window | None = None  # set by build_layout; keys.py pages by its height

    def say(self, text: str, style: str = "class:system") -> None:
        """A line in the system log (help, contacts, errors): shown with no chat open."""
        self.log.append((style, text))


def local_time(ts: int, now: float | None = None) -> str:
    """HH:MM in the local time zone today, else the date."""
    moment = time.localtime(ts)
    today = time.localtime(now if now is not None else time.time())
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d", moment)


def conversation_list(view: View) -> StyleAndTextTuples:
    """One line per conversation, most recent first: name, unread count, last time."""
    state = view.session.state
    lines: StyleAndTextTuples = [("class:list.title", " chats\n")]
    if state is None:
        return lines
    for conv in state.sorted_conversations():
        style = "class:list.open" if conv.peer == view.session.open_peer else "class:list"
        name = ("# " if conv.is_group else "") + state.label(conv.peer)
        unread = f" ({conv.unread})" if conv.unread else ""
        when = local_time(conv.last_time) if conv.last_time else ""
        room = LIST_WIDTH - 2 - len(unread) - len(when) - 1
        lines.append((style, " " + name[:room].ljust(room)))
        lines.append(("class:list.unread " + style, unread))
        lines.append((style, " "))
        lines.append(("class:list.time " + style, when + "\n"))
    return lines


def _message_line(view: View, conv: Conversation, m: Message) -> StyleAndTextTuples:
    state = view.session.state
    assert state is not None
    line: StyleAndTextTuples = [("class:time", time.strftime("%H:%M ", time.localtime(m.shown_at)))]
    if m.own:
        line.append(("class:own", "you: "))
    elif conv.is_group:
        line.append(("class:author", f"{state.label(m.src)}: "))
    line.append(("class:text", m.text))
    if m.tick is not None:
        marks, style = TICKS[m.tick.name]
        line.append((style, " " + marks))
    line.append(("", "\n"))
    return line


def conversation_body(view: View) -> StyleAndTextTuples:
    """The open conversation, oldest first, a day line when the date changes.

    With no conversation open: the welcome text and the system log.
    """
    session, state = view.session, view.session.state
    if state is None or session.open_peer is None:
        return [(style, text + "\n") for style, text in view.log]
    conv = state.conversation(session.open_peer)
    title = state.label(conv.peer)
    if conv.is_group:
        names = ", ".join("you" if m == state.me else state.label(m) for m in conv.members)
        title += f"  ({names})"
    body: StyleAndTextTuples = [("class:header", title), ("", "\n")]
    day = ""
    for m in conv.messages:
        today = time.strftime("%A %d %B %Y", time.localtime(m.shown_at))
        if today != day:
            body.append(("class:day", f"── {today} ──\n"))
            day = today
        body.extend(_message_line(view, conv, m))
    return body


def status_line(view: View) -> StyleAndTextTuples:
    """Our id, the server, connected / reconnecting, and the latest note."""
    session = view.session
    bad = session.status != "connected" or not session.logged_in
    state = "connected" if session.logged_in else session.status
    parts: StyleAndTextTuples = [
        ("class:status", f" {session.me or 'not logged in'} │ {session.server} │ "),
        ("class:status.bad" if bad else "class:status", f" {state} "),
        ("class:status", " │ "),
    ]
    style, text = view.note
    parts.append((style or "class:status", text))
    return parts


def _body_cursor(view: View) -> Point:
    # the window scrolls to keep this line visible: the newest line, or `scroll` above it
    lines = sum(text.count("\n") for _, text, *_ in conversation_body(view))
    view.scroll = max(0, min(view.scroll, lines - 1))
    return Point(0, max(0, lines - 1 - view.scroll))


def build_layout(view: View, input_area: TextArea) -> Layout:
    """The whole screen; the input line has the focus."""
    body_window = Window(
        FormattedTextControl(lambda: conversation_body(view),
                             get_cursor_position=lambda: _body_cursor(view)),
        wrap_lines=True, always_hide_cursor=True,
    )
    screen = HSplit([
        VSplit([
            Window(FormattedTextControl(lambda: conversation_list(view)),
                   width=LIST_WIDTH, style="class:list"),
            Window(width=1, char="│", style="class:separator"),
            body_window,
        ]),
        Window(FormattedTextControl(lambda: status_line(view)), height=1,
               style="class:status"),
        input_area,
    ])
    view.body_window = body_window
    root = FloatContainer(
        content=screen,
        floats=[Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=8))],
    )
    return Layout(root, focused_element=input_area)
