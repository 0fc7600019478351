"""Key bindings: one small documented function per key (ptpython's habit), and their table.

Each function gets the Controller (app.py) and the key press; it acts through
the Controller and never touches the state directly. BINDINGS pairs keys with
functions (and, for a key that only means something at times, when);
key_bindings() turns the table into prompt_toolkit's KeyBindings. Refuses to
know about the network and the layout's insides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from prompt_toolkit.filters import Always, Condition, Filter
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


class Controller(Protocol):
    @property
    def panel_open(self) -> bool: ...
    def move(self, step: int) -> None: ...
    def page(self, step: int) -> None: ...
    def close(self) -> None: ...
    def quit(self) -> None: ...
    @property
    def selecting(self) -> bool: ...
    def select(self, step: int) -> None: ...


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
    """Scroll the chat (or the open panel) one page back."""
    ctl.page(-1)


def page_forward(ctl: Controller, event: KeyPressEvent) -> None:
    """Scroll one page towards the newest message (or the panel's end)."""
    ctl.page(+1)


def close_panel(ctl: Controller, event: KeyPressEvent) -> None:
    """Close the /help or /contacts panel: the chat beneath is still open."""
    ctl.close()


def select_older(ctl: Controller, event: KeyPressEvent) -> None:
    """Select the message before the selected one (none selected: the newest), for /reply,
    /edit, /delete, /react and /reactions without a REF."""
    ctl.select(-1)


def select_newer(ctl: Controller, event: KeyPressEvent) -> None:
    """Select the message after the selected one (past the newest: none)."""
    ctl.select(+1)


def unselect(ctl: Controller, event: KeyPressEvent) -> None:
    """Forget the selected message: commands act on the newest again."""
    ctl.select(0)


def leave(ctl: Controller, event: KeyPressEvent) -> None:
    """Leave (what is still in the outbox is kept and sent next time)."""
    ctl.quit()


KeyFunction = Callable[[Controller, KeyPressEvent], None]


@dataclass(frozen=True, slots=True)
class Binding:
    key: str
    does: KeyFunction
    only_if: Callable[[Controller], bool] | None = None
    """Bound only while this holds, and then at once: an Esc does not wait to see
    whether it starts an Alt-key (those keep working the rest of the time)."""


BINDINGS: tuple[Binding, ...] = (
    Binding("c-n", next_chat),
    Binding("c-p", previous_chat),
    Binding("tab", complete_or_next),
    Binding("s-tab", complete_back_or_previous),
    Binding("pageup", page_back),
    Binding("pagedown", page_forward),
    Binding("escape", close_panel, only_if=lambda ctl: ctl.panel_open),
    Binding("escape", unselect, only_if=lambda ctl: ctl.selecting and not ctl.panel_open),
    Binding("s-up", select_older),
    Binding("s-down", select_newer),
    Binding("c-c", leave),
    Binding("c-q", leave),
)
"""Key -> what it does; README's "Keys" paragraph describes the same."""


def _filter(ctl: Controller, binding: Binding) -> Filter:
    only_if = binding.only_if
    return Always() if only_if is None else Condition(lambda: only_if(ctl))


def key_bindings(ctl: Controller) -> KeyBindings:
    keys = KeyBindings()
    for binding in BINDINGS:
        keys.add(binding.key, filter=_filter(ctl, binding),
                 eager=binding.only_if is not None)(partial(binding.does, ctl))
    return keys
