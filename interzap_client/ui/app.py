"""The full-screen Application: wires the Session to the layout, the keys and the input line.

No threads: the connection runs as a background task of the prompt_toolkit
Application on the same asyncio loop, and every change in the session calls
invalidate(). A typed line runs at once as far as it can (actions.start), so
a line that fails is kept for correction; what waits for the server (/group,
/login) finishes as a background task, so typing never freezes. /help and
/contacts open a panel over the chat, which stays open beneath it. Errors and
confirmations show in the status bar until the next command, or for
NOTE_SECONDS. Refuses to know the chat rules (session/) and the wire
(network.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from prompt_toolkit.widgets import TextArea

from interzap_client import commands as cmd
from interzap_client import intents, profile
from interzap_client.actions import finish, start
from interzap_client.cli import new_session
from interzap_client.notices import Notice
from interzap_client.session import Session, SessionError
from interzap_client.state import State
from interzap_client.ui.completion import NameCompleter
from interzap_client.ui.keys import key_bindings
from interzap_client.ui.layout import build_layout, listed
from interzap_client.ui.live import info_panel
from interzap_client.ui.pager import Line
from interzap_client.ui.panels import PANELS
from interzap_client.ui.style import STYLE
from interzap_client.ui.view import SELECTED, Note, Panel, View
from interzap_client.ui.words import named, people

WELCOME = (
    "Welcome to Interzap.",
    "/register creates an account (/register CODE with an invite, where the server asks "
    "for one); /login ID [TOKEN] uses one you already have.",
    "/help lists every command. Ctrl-N / Ctrl-P move between chats, Ctrl-C leaves.",
)
INPUT_ROWS = 5
"""The most rows the input line grows to for a message of several lines."""
NOTE_SECONDS = 6.0
"""How long an error or a confirmation stays in the status bar (unless a command comes)."""


def _added(state: State, action: intents.Add) -> str:
    return f"added {named(state, state.resolve(action.ident) or action.ident)}"


CONFIRMATIONS: dict[type, Callable[[State, Any], str]] = {intents.Add: _added}
"""Commands whose success shows nowhere else -> the words the status bar says."""


class ChatApp:
    """One full-screen session; run() returns the exit status."""

    def __init__(self, session: Session, *, bell: bool = True, timeout: float = 30.0,
                 account: str | None = None, input: Input | None = None,
                 output: Output | None = None, note_seconds: float = NOTE_SECONDS) -> None:
        self.session = session
        self.bell = bell
        self.timeout = timeout
        self.account = account
        self.note_seconds = note_seconds
        self.view = View(session)
        self.input = TextArea(
            height=self._input_rows, multiline=True, wrap_lines=False,
            completer=NameCompleter(session), complete_while_typing=False,
            accept_handler=self._accept,
        )
        self.app: Application[int] = Application(
            layout=build_layout(self.view, self.input),
            key_bindings=key_bindings(self),
            style=STYLE,
            full_screen=True,
            input=input,
            output=output,
        )
        self._shows: dict[str, Callable[[Notice], None]] = {
            "message": self._ring,
            "error": partial(self._alert, "error"),
            "warning": partial(self._alert, "warning"),
            "info": self._info,
            "group": self._group,
            "registered": self._registered,
            "logged_in": self._logged_in,
            "reconnected": self._logged_in,
            "disconnected": self._disconnected,
            "failover": self._info,
            "signed_out": partial(self._alert, "warning"),
            "pending": self._parting,
            "blocked": self._blocked,
            "reactions": self._reactions,
            "group_change": self._group_change,
            "whois": self._whois,
            "typing": self._typing,
            "receipts": self._receipts,
            "privacy": self._privacy,
        }
        """Notice.event -> how the screen shows it (others only repaint)."""
        session.subscribe(self._on_notice)
        self.input.buffer.on_text_changed += self._typed

    # ---- Controller (keys.py) ---------------------------------------------

    @property
    def panel_open(self) -> bool:
        return self.view.panel is not None

    @property
    def choosing(self) -> bool:
        return self.view.choosing

    def choose(self, step: int) -> None:
        self.view.choose(step)
        self.app.invalidate()

    def pick(self) -> None:
        """Open the chosen result's chat, scrolled to its message."""
        target = self.view.pick()
        if target is not None:
            peer, key = target
            self.session.open(peer)
            self.view.open_at(key)
            self.app.invalidate()

    def move(self, step: int) -> None:
        """Open the conversation `step` places down the list (from none: the first)."""
        state = self.session.state
        if state is None:
            return
        order = [c.peer for c in listed(state, self.session.open_peer)]
        if not order:
            return
        if self.session.open_peer in order:
            index = (order.index(self.session.open_peer) + step) % len(order)
        else:
            index = 0 if step > 0 else len(order) - 1
        self.session.open(order[index])

    def page(self, step: int) -> None:
        self.view.page(step)
        self.app.invalidate()

    @property
    def selecting(self) -> bool:
        return self.session.selected is not None

    def select(self, step: int) -> None:
        """Move the selection `step` messages (-1: older) in the open chat; 0: none."""
        state, peer = self.session.state, self.session.open_peer
        if state is None or peer is None:
            return
        keys = [m.key for m in state.conversation(peer).messages]
        now = self.session.selected
        index = keys.index(now) if now in keys else len(keys)
        index = len(keys) if step == 0 else max(0, index + step)
        self.session.selected = keys[index] if index < len(keys) else None
        self.view.chat().seek = SELECTED  # bring it into view at the next paint
        self.app.invalidate()

    def close(self) -> None:
        if self.view.close():
            self.app.invalidate()

    def quit(self) -> None:
        future = self.app.future
        if self.app.is_running and future is not None and not future.done():
            self.app.exit(result=0)

    # ---- input ----------------------------------------------------------------

    def _input_rows(self) -> int:
        """The input grows with the lines of a message (Alt+Enter, a paste), up to a few."""
        return min(INPUT_ROWS, self.input.document.line_count)

    def _accept(self, buffer: Buffer) -> bool:
        """Enter: run the line. Returning True keeps it (the command failed: correct it);
        False clears the input for the next one."""
        self.view.forget()  # the last command's error or confirmation
        self.view.close()
        try:
            action = cmd.parse(buffer.text)
        except cmd.CommandError as exc:
            self.session.fail(str(exc))
            return True
        return action is not None and not self._run(action, buffer.text)

    def _run(self, action: intents.Action, line: str) -> bool:
        """Start `action`; whether that went well (what is awaited finishes in the background)."""
        if isinstance(action, intents.Quit):
            self.quit()
            return True
        panel = PANELS.get(type(action))
        if panel is not None:
            return self._open_panel(partial(panel, self.session, action))
        outcome = start(self.session, action, self.timeout)
        if outcome is False:
            return False
        self.view.chat().top = None  # back to the newest, where what you did shows
        self._confirm(action)
        if outcome is not True:
            self.app.create_background_task(self._finish(line, outcome))
        return True

    def _open_panel(self, make: Callable[[], Panel]) -> bool:
        try:
            self.view.show(make())
        except SessionError as exc:
            self.session.fail(str(exc))
            return False
        return True

    def _confirm(self, action: intents.Action) -> None:
        confirm, state = CONFIRMATIONS.get(type(action)), self.session.state
        if confirm is not None and state is not None:
            self._flash(Note(confirm(state, action)))

    async def _finish(self, line: str, outcome: Awaitable[bool]) -> None:
        """The rest of a command; if it failed after all, its line comes back to an empty input."""
        if not await finish(self.session, outcome) and not self.input.text:
            self.input.buffer.set_document(Document(line))

    # ---- session -> screen ------------------------------------------------------

    def _on_notice(self, notice: Notice | None) -> None:
        if notice is not None:
            self._show(notice)
        self.app.invalidate()

    def _show(self, notice: Notice) -> None:
        show = self._shows.get(notice.event)
        if show is not None:
            show(notice)

    def _flash(self, note: Note) -> None:
        """`note` in the status bar until the next command, or for note_seconds."""
        self.view.brief = note
        if self.app.loop is not None:
            self.app.loop.call_later(self.note_seconds, self._expire, note)

    def _expire(self, note: Note) -> None:
        self.view.forget(note)
        self.app.invalidate()

    def _ring(self, n: Notice) -> None:
        if n.peer != self.session.open_peer and self.bell:
            self.app.output.bell()

    def _alert(self, word: str, n: Notice) -> None:
        """An error or a warning: in the system log, and in the status bar for a while."""
        self.view.say(f"{word}: {n.text}", f"class:system.{word}")
        self._flash(Note(n.text or word, f"class:status.{word}"))

    def _info(self, n: Notice) -> None:
        self.view.say(n.text or "")
        self._flash(Note(n.text or ""))

    def _group(self, n: Notice) -> None:
        state = self.session.state
        if state is not None and n.group is not None:
            self.view.say(f"group {named(state, n.group)}: {people(state, n.members or ())}")

    def _blocked(self, n: Notice) -> None:
        state = self.session.state
        if state is not None:
            self.view.say(f"you block {people(state, n.users)}" if n.users
                          else "you block no one")

    def _reactions(self, n: Notice) -> None:
        """/reactions: who reacted with what, in a panel over the chat."""
        state = self.session.state
        if state is None:
            return
        lines: tuple[Line, ...] = tuple(
            [("class:panel.command", f"{emoji} "), ("class:panel.note", people(state, who))]
            for emoji, who in (n.reactions or {}).items())
        self.view.show(Panel("reactions · Esc closes",
                             lines or ([("class:panel.note", "no reactions yet")],)))

    def _group_change(self, n: Notice) -> None:
        """A group change: a line of its chat already; in the log too, if it is not open."""
        state = self.session.state
        if n.text and state is not None and n.group != self.session.open_peer:
            self.view.say(f"{named(state, n.group or '')}: {n.text}")

    def _whois(self, n: Notice) -> None:
        self._info(Notice("info", text=f"{n.name} is {n.id}" if n.name != n.id
                          else f"{n.id} has no name you know"))

    def _typed(self, buffer: Buffer) -> None:
        """A keystroke in a message (not a command): the open chat hears we type (a 27 at
        most every 3 s: session/live.py)."""
        if buffer.text and not buffer.text.startswith("/"):
            self.session.live.typed(self.session.open_peer)

    def _typing(self, n: Notice) -> None:
        """Someone types: repaint when the notice is due to go (layout reads the clock)."""
        expiry = self.session.live.presence.next_expiry(self.session.clock())
        if expiry is not None and self.app.loop is not None:
            self.app.loop.call_later(expiry - self.session.clock() + 0.05, self.app.invalidate)

    def _receipts(self, n: Notice) -> None:
        """/info's answer, as a panel over the chat."""
        if n.peer is not None and n.ts is not None:
            panel = info_panel(self.session, n.peer, n.ts)
            if panel is not None:
                self.view.show(panel)

    def _privacy(self, n: Notice) -> None:
        self._flash(Note("your last seen is hidden (you see nobody's)" if n.text == "hidden"
                         else "your last seen is shared"))

    def _registered(self, n: Notice) -> None:
        self.view.say(f"Registered as {n.id}. Id and token are stored in "
                      f"{self.session.root} (readable by you only).")
        self.view.lasting = Note(f"registered as {n.id}")

    def _logged_in(self, n: Notice) -> None:
        self.view.lasting = Note(f"{n.event.replace('_', ' ')} as {n.id}")

    def _parting(self, n: Notice) -> None:
        print(f"interzap-client: {n.text}")  # on leaving: the full screen is closed already

    def _disconnected(self, n: Notice) -> None:
        self.view.lasting = Note(f"{n.text}: reconnecting", "class:status.bad")

    # ---- running --------------------------------------------------------------------

    def _start(self) -> None:
        for line in WELCOME:
            self.view.say(line)
        self.app.create_background_task(self.session.run_network())
        accounts = profile.list_accounts(self.session.root)
        if self.account is None and len(accounts) > 1:
            self.view.say("Stored accounts: " + ", ".join(accounts) + "; /login ID")
        if self.account is not None:
            try:
                self.session.start_login(self.account)
            except profile.ProfileError as exc:
                self.session.fail(str(exc))
                return
            self.app.create_background_task(_discard(self.session.answer(self.timeout)))

    async def run(self) -> int:
        try:
            result = await self.app.run_async(pre_run=self._start)
        finally:
            await self.session.close()
        return result or 0


async def _discard(outcome: Awaitable[object]) -> None:
    """Await `outcome` for its effects: it reports itself as notices."""
    await outcome


async def run_ui(args: argparse.Namespace, root: Path) -> int:
    """The entry point from cli.py: a terminal on both ends."""
    session = new_session(args, root)
    account = profile.choose_account(root, args.account)
    return await ChatApp(session, bell=not args.no_bell, timeout=args.timeout,
                         account=account).run()
