"""Key bindings: one small documented function per key (ptpython's habit).

They act through a Controller (app.py) and never touch the state directly.
Refuses to know about the network and the layout's insides.
"""

from __future__ import annotations

from typing import Protocol

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


class Controller(Protocol):
    def move(self, step: int) -> None: ...
    def page(self, step: int) -> None: ...
    def quit(self) -> None: ...


def key_bindings(ctl: Controller) -> KeyBindings:
    keys = KeyBindings()

    @keys.add("c-n")
    def _next(event: KeyPressEvent) -> None:
        """Open the next conversation in the list (wraps around)."""
        ctl.move(+1)

    @keys.add("c-p")
    def _previous(event: KeyPressEvent) -> None:
        """Open the previous conversation in the list."""
        ctl.move(-1)

    @keys.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        """Complete a command, id or alias; on an empty line, the next conversation."""
        buffer = event.current_buffer
        if buffer.text.startswith("/"):
            if buffer.complete_state:
                buffer.complete_next()
            else:
                buffer.start_completion(insert_common_part=True)
        elif not buffer.text:
            ctl.move(+1)

    @keys.add("s-tab")
    def _back_tab(event: KeyPressEvent) -> None:
        """Previous completion; on an empty line, the previous conversation."""
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_previous()
        elif not buffer.text:
            ctl.move(-1)

    @keys.add("pageup")
    def _page_up(event: KeyPressEvent) -> None:
        """Scroll the conversation one page back in time."""
        ctl.page(+1)

    @keys.add("pagedown")
    def _page_down(event: KeyPressEvent) -> None:
        """Scroll one page towards the newest message."""
        ctl.page(-1)

    @keys.add("c-c")
    @keys.add("c-q")
    def _quit(event: KeyPressEvent) -> None:
        """Leave (what is still in the outbox is kept and sent next time)."""
        ctl.quit()

    return keys
