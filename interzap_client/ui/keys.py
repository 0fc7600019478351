"""Key bindings: one small documented function per key (ptpython's habit), and their table.

Each function gets the Controller (app.py) and the key press; it acts through
the Controller and never touches the state directly. BINDINGS pairs keys with
functions; key_bindings() turns the table into prompt_toolkit's KeyBindings.
Refuses to know about the network and the layout's insides.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


class Controller(Protocol):
    def move(self, step: int) -> None: ...
    def page(self, step: int) -> None: ...
    def quit(self) -> None: ...


def next_chat(ctl: Controller, event: KeyPressEvent) -> None:
    """Open the next conversation in the list (wraps around)."""
    ctl.move(+1)


def previous_chat(ctl: Controller, event: KeyPressEvent) -> None:
    """Open the previous conversation in the list."""
    ctl.move(-1)


def complete_or_next(ctl: Controller, event: KeyPressEvent) -> None:
    """Complete a command, id or alias; on an empty line, the next conversation."""
    buffer = event.current_buffer
    if buffer.text.startswith("/"):
        if buffer.complete_state:
            buffer.complete_next()
        else:
            buffer.start_completion(insert_common_part=True)
    elif not buffer.text:
        ctl.move(+1)


def complete_back_or_previous(ctl: Controller, event: KeyPressEvent) -> None:
    """Previous completion; on an empty line, the previous conversation."""
    buffer = event.current_buffer
    if buffer.complete_state:
        buffer.complete_previous()
    elif not buffer.text:
        ctl.move(-1)


def page_back(ctl: Controller, event: KeyPressEvent) -> None:
    """Scroll the conversation one page back in time."""
    ctl.page(+1)


def page_forward(ctl: Controller, event: KeyPressEvent) -> None:
    """Scroll one page towards the newest message."""
    ctl.page(-1)


def leave(ctl: Controller, event: KeyPressEvent) -> None:
    """Leave (what is still in the outbox is kept and sent next time)."""
    ctl.quit()


KeyFunction = Callable[[Controller, KeyPressEvent], None]
BINDINGS: tuple[tuple[str, KeyFunction], ...] = (
    ("c-n", next_chat),
    ("c-p", previous_chat),
    ("tab", complete_or_next),
    ("s-tab", complete_back_or_previous),
    ("pageup", page_back),
    ("pagedown", page_forward),
    ("c-c", leave),
    ("c-q", leave),
)
"""Key -> what it does; README's "Keys" paragraph describes the same."""


def key_bindings(ctl: Controller) -> KeyBindings:
    keys = KeyBindings()
    for key, function in BINDINGS:
        keys.add(key)(partial(function, ctl))
    return keys
