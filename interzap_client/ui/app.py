"""The full-screen Application: wires the Session to the layout, the keys and the input line.

No threads: the connection runs as a background task of the prompt_toolkit
Application on the same asyncio loop, and every change in the session calls
invalidate(). Commands run as background tasks too, so a /group waiting for
its answer never freezes typing. Refuses to know the chat rules (session/)
and the wire (network.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from prompt_toolkit.widgets import TextArea

from interzap_client import commands as cmd
from interzap_client import profile
from interzap_client.actions import perform
from interzap_client.notices import Notice
from interzap_client.session import Session
from interzap_client.ui.keys import key_bindings
from interzap_client.ui.layout import View, build_layout
from interzap_client.ui.style import STYLE

WELCOME = (
    "Welcome to Interzap.",
    "/register creates an account; /login ID [TOKEN] uses one you already have.",
    "/help lists every command. Ctrl-N / Ctrl-P move between chats, Ctrl-C leaves.",
)


class NameCompleter(Completer):
    """Tab completion of commands, then of ids and aliases (commands.complete)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self) -> list[str]:
        state = self.session.state
        if state is None:
            return []
        return [*state.aliases.values(), *state.contacts,
                *(c.peer for c in state.conversations.values() if c.is_group)]

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        line = document.text_before_cursor
        word = line.split(" ")[-1]
        for choice in cmd.complete(line, self.names()):
            yield Completion(choice, start_position=-len(word))


class ChatApp:
    """One full-screen session; run() returns the exit status."""

    def __init__(self, session: Session, *, bell: bool = True, timeout: float = 30.0,
                 account: str | None = None, input: Input | None = None,
                 output: Output | None = None) -> None:
        self.session = session
        self.bell = bell
        self.timeout = timeout
        self.account = account
        self.view = View(session)
        self.input = TextArea(
            height=1, prompt=[("class:prompt", "> ")], multiline=False, wrap_lines=False,
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
            "contact": self._contact,
            "group": self._group,
            "registered": self._registered,
            "logged_in": self._logged_in,
            "reconnected": self._logged_in,
            "disconnected": self._disconnected,
            "signed_out": partial(self._alert, "warning"),
            "pending": self._parting,
        }
        """Notice.event -> how the screen shows it (others only repaint)."""
        session.subscribe(self._on_notice)

    # ---- Controller (keys.py) ---------------------------------------------

    def move(self, step: int) -> None:
        """Open the conversation `step` places down the list (from none: the first)."""
        state = self.session.state
        if state is None or not state.conversations:
            return
        order = [c.peer for c in state.sorted_conversations()]
        if self.session.open_peer in order:
            index = (order.index(self.session.open_peer) + step) % len(order)
        else:
            index = 0 if step > 0 else len(order) - 1
        self.view.scroll = 0
        self.session.open(order[index])

    def page(self, step: int) -> None:
        window = self.view.body_window
        info = window.render_info if window is not None else None
        height = info.window_height if info is not None else 10
        self.view.scroll = max(0, self.view.scroll + step * max(1, height - 1))
        self.app.invalidate()

    def quit(self) -> None:
        future = self.app.future
        if self.app.is_running and future is not None and not future.done():
            self.app.exit(result=0)

    # ---- input ----------------------------------------------------------------

    def _accept(self, buffer: Buffer) -> bool:
        """Enter: run the line; returning False clears the input for the next one."""
        try:
            action = cmd.parse(buffer.text)
        except cmd.CommandError as exc:
            self.session.fail(str(exc))
            return True  # keep the line, so it can be corrected
        if action is None:
            return False
        if isinstance(action, cmd.Quit):
            self.quit()
            return False
        if isinstance(action, cmd.Help | cmd.Contacts):
            self.session.open(None)  # their output goes to the system pane
        self.view.scroll = 0
        self.app.create_background_task(_discard(perform(self.session, action, self.timeout)))
        return False

    # ---- session -> screen ------------------------------------------------------

    def _on_notice(self, notice: Notice | None) -> None:
        if notice is not None:
            self._show(notice)
        self.app.invalidate()

    def _show(self, notice: Notice) -> None:
        show = self._shows.get(notice.event)
        if show is not None:
            show(notice)

    def _ring(self, n: Notice) -> None:
        if n.peer != self.session.open_peer and self.bell:
            self.app.output.bell()

    def _alert(self, word: str, n: Notice) -> None:
        """An error or a warning: in the system log, and in the status bar until the next."""
        self.view.say(f"{word}: {n.text}", f"class:system.{word}")
        self.view.note = ("class:status.error", f" {n.text} ")

    def _info(self, n: Notice) -> None:
        self.view.say(n.text or "")

    def _contact(self, n: Notice) -> None:
        self.view.say(f"contact {n.id}" + (f"  alias {n.alias}" if n.alias else ""))

    def _group(self, n: Notice) -> None:
        state = self.session.state
        label = state.label if state is not None else str
        self.view.say(f"group {n.group}: " + ", ".join(label(m) for m in n.members or ()))

    def _registered(self, n: Notice) -> None:
        self.view.say(f"Registered as {n.id}. Id and token are stored in "
                      f"{self.session.root} (readable by you only).")
        self.view.note = ("", f" registered as {n.id} ")

    def _logged_in(self, n: Notice) -> None:
        self.view.note = ("", f" {n.event.replace('_', ' ')} as {n.id} ")

    def _parting(self, n: Notice) -> None:
        print(f"interzap-client: {n.text}")  # on leaving: the full screen is closed already

    def _disconnected(self, n: Notice) -> None:
        self.view.note = ("class:status.bad", f" {n.text}: reconnecting ")

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
    session = Session(root, args.host, args.port, token=args.token)
    account = profile.choose_account(root, args.account)
    return await ChatApp(session, bell=not args.no_bell, timeout=args.timeout,
                         account=account).run()
