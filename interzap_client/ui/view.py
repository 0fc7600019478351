"""What the screen shows besides the session's state: the system log, the status notes,
the panel over the chat, and how far each pane is scrolled.

Plain data the layout reads at every repaint and the controller (app.py)
changes. Refuses to know about prompt_toolkit's containers and about keys.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from interzap_client.conversations import Key
from interzap_client.session import Session
from interzap_client.ui.pager import Line, Pager

Target = tuple[str, Key]
"""Where a choice leads: a conversation and a message in it."""
CHOSEN = "class:panel.chosen"
"""The style added to the chosen line of a panel of choices."""
SELECTED = "class:selected"
"""The style added to the lines of the message selected for /reply, /edit, /delete, /react."""
FOUND = "class:found"
"""The style added to the message a chosen search result opened the chat at."""


def marked(line: Line, style: str) -> Line:
    """`line` with `style` added to each of its fragments."""
    return [(f"{fragment[0]} {style}", fragment[1]) for fragment in line]


@dataclass(frozen=True, slots=True)
class Note:
    """A few words at the right of the status bar."""

    text: str
    style: str = "class:status"


@dataclass(frozen=True, slots=True)
class Panel:
    """Lines shown over the chat (/help, /contacts, /search) until Esc or the next command."""

    title: str
    lines: tuple[Line, ...]
    targets: tuple[Target, ...] = ()
    """A panel of choices (/search's results): line i leads to targets[i]."""


@dataclass
class View:
    """The screen's own state; `brief` is an error or a confirmation, gone soon."""

    session: Session
    log: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=500))
    lasting: Note = Note("")  # how things stand: logged in, reconnecting
    brief: Note | None = None  # shown over `lasting` until it expires or the next command
    panel: Panel | None = None
    panel_pager: Pager = field(default_factory=Pager)
    chosen: int = 0  # the chosen line of a panel of choices
    found: Key | None = None  # the message a chosen result opened the chat at
    _chat: Pager = field(default_factory=Pager)
    _chat_peer: str | None = None  # whose chat _chat scrolls (None: the log's)

    def say(self, text: str, style: str = "class:system") -> None:
        """A line in the system log (welcome, errors, groups): shown with no chat open."""
        self.log.append((style, text))

    @property
    def note(self) -> Note:
        return self.brief or self.lasting

    def forget(self, note: Note | None = None) -> None:
        """Drop the brief note (only if it is still `note`, when one is named)."""
        if note is None or self.brief is note:
            self.brief = None

    def show(self, panel: Panel) -> None:
        self.panel, self.panel_pager, self.chosen = panel, Pager(top=0), 0

    @property
    def choosing(self) -> bool:
        """Whether a panel of choices is open (up, down and Enter are its)."""
        return self.panel is not None and bool(self.panel.targets)

    def choose(self, step: int) -> None:
        """Move the choice `step` lines down (wrapping around), and keep it in view."""
        if self.panel is not None and self.panel.targets:
            self.chosen = (self.chosen + step) % len(self.panel.targets)
            self.panel_pager.seek = CHOSEN

    def panel_lines(self) -> list[Line]:
        """The open panel's lines, the chosen one marked if it is a panel of choices."""
        if self.panel is None:
            return []
        lines = list(self.panel.lines)
        if self.panel.targets:
            lines[self.chosen] = marked(lines[self.chosen], CHOSEN)
        return lines

    def pick(self) -> Target | None:
        """The chosen target, the panel closed; None if no panel of choices is open."""
        if self.panel is None or not self.panel.targets:
            return None
        target = self.panel.targets[self.chosen]
        self.close()
        return target

    def open_at(self, key: Key) -> None:
        """The open chat (just opened) is to show `key`'s message, marked, at the next paint."""
        self.chat().seek = FOUND
        self.found = key

    def close(self) -> bool:
        """Close the panel; whether one was open."""
        was_open, self.panel = self.panel is not None, None
        return was_open

    def chat(self) -> Pager:
        """The open chat's pager (or the log's): a new one, at the newest, for each chat."""
        if self._chat_peer != self.session.open_peer:
            self._chat, self._chat_peer = Pager(), self.session.open_peer
            self.found = None
        return self._chat

    def page(self, step: int) -> None:
        """Page the panel if one is open, else the chat (-1: back in time)."""
        (self.panel_pager if self.panel is not None else self.chat()).page(step)
