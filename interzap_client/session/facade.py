"""The Session: one account on one server (or a list to fail over along), as the UI, the
scripted mode and the tests see it.

A façade over the rooms of the package: lifecycle.py (the connection, logging
in), outbox.py (what awaits an answer, what waits to be sent), inbound.py
(server events to the journal and to notices), blocking.py (/block, /unblock
until answered). It owns the account (its State and History), the open
conversation, and the user's requests: each request is journaled first, then
sent if it can be (else it waits in the outbox). The pieces reach each other
through it.

Refuses to know about sockets (network.py), the journal's format (history.py,
profile.py) and how things are shown (script.py, ui/).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from interzap_client import profile
from interzap_client.conversations import Message, PendingGroup, Tick
from interzap_client.history import History
from interzap_client.lines import to_wire
from interzap_client.message_acts import Act
from interzap_client.network import KEEPALIVE, Connection
from interzap_client.notices import Announcer, Notice
from interzap_client.people import PendingChange, WantedName, is_member
from interzap_client.search import Finder, Found
from interzap_client.servers import Address
from interzap_client.session import acting
from interzap_client.session.blocking import Blocks
from interzap_client.session.errors import SessionError
from interzap_client.session.inbound import Inbound
from interzap_client.session.lifecycle import Lifecycle
from interzap_client.session.live import Live
from interzap_client.session.outbox import Outbox
from interzap_client.session.states import Phase
from interzap_client.state import State
from shared import events as ev
from shared.codec import name_problem, text_problem
from shared.codes import MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS, ActKind

NOT_IN_GROUP = "you are no longer a member of this group (you keep what it said)"
NO_ACCOUNT = "no account yet: /register or /login ID first"
NOT_LOGGED_IN = "not logged in: /login ID [TOKEN] first"
HELD_SIGNED_OUT = ("this device is signed out: it waits in the outbox, and goes once /login "
                   "takes the account back")


def waiting_words(messages: int, groups: int, changes: int = 0) -> str:
    """'3 messages and 1 group wait in the outbox ...', for a client that leaves (changes:
    /name and group changes)."""
    counts = [f"{n} {word}{'' if n == 1 else 's'}"
              for n, word in ((messages, "message"), (groups, "group"), (changes, "change"))
              if n]
    verb = "waits" if messages + groups + changes == 1 else "wait"
    return (f"{' and '.join(counts)} {verb} in the outbox, not accepted by the server yet; "
            "sent at the next start")


class Session(Announcer):
    """One account (once known) on one server, with its state, history and outbox."""

    def __init__(self, root: Path, host: str, port: int, token: str | None = None,
                 clock: Callable[[], float] = time.time, *,
                 fallbacks: Sequence[Address] = (), keepalive: float = KEEPALIVE) -> None:
        """`fallbacks`: the servers to fail over to, in turn, after host:port (servers.py);
        `keepalive`: seconds of silence before a ping, and again before giving up."""
        super().__init__()
        self.root = root
        self.state: State | None = None
        self.history: History | None = None
        self.open_peer: str | None = None
        self.selected: tuple[str, str, int] | None = None  # a message chosen in the UI
        self.received = 0  # new messages stored during this session (/wait received)
        self.finder = Finder()  # /search's folded copy of the history, kept up to date
        self.folding: asyncio.Task[None] | None = None  # Finder.prepare after a load (awaitable)
        self._clock = clock
        # the last 08 sent per conversation: an 08 has no answer, and one lost with a
        # dying server would never come again, so each is repeated after a reconnect
        # (the server ignores an 08 that covers nothing new)
        self._reads_sent: dict[str, int] = {}
        self.outbox = Outbox(self)
        self.blocks = Blocks(self)  # /block, /unblock not yet answered (blocking.py)
        self.live = Live(self)  # typing, presence, privacy, info (live.py)
        self.lifecycle = Lifecycle(self, token)
        self.inbound = Inbound(self)
        servers = [Address(host, port), *(a for a in fallbacks if a != Address(host, port))]
        self.net = Connection(servers, self.inbound.handle, self.lifecycle.up,
                              self.lifecycle.down, partial(self.fail_about, None),
                              self.lifecycle.unreachable, keepalive=keepalive)

    # ---- what the front ends read ------------------------------------------------

    @property
    def server(self) -> str:
        """The server in use (or dialled next), as HOST:PORT."""
        return str(self.net.server)

    @property
    def me(self) -> str | None:
        return self.state.me if self.state else None

    @property
    def logged_in(self) -> bool:
        return self.lifecycle.logged_in

    @property
    def status(self) -> str:
        """offline | connecting | connected | reconnecting | signed out (states.STATUS_WORDS)."""
        return self.lifecycle.status

    @property
    def can_send(self) -> bool:
        """Logged in, or able to log in again by itself (so an outbox will drain)."""
        return self.lifecycle.can_send

    @property
    def signed_out(self) -> bool:
        """The account logged in on another device (13/12); a /login takes it back."""
        return self.lifecycle.phase is Phase.SIGNED_OUT

    def outbox_empty(self) -> bool:
        return self.outbox.empty()

    def need_state(self) -> State:
        if self.state is None:
            raise SessionError(NO_ACCOUNT)
        return self.state

    def need_history(self) -> History:
        if self.history is None:
            raise SessionError(NO_ACCOUNT)
        return self.history

    # ---- the account ---------------------------------------------------------------

    def use_account(self, ident: str) -> None:
        """Load the state and history of `ident` (before logging in, or offline)."""
        if self.logged_in and ident != self.me:
            raise SessionError(f"already logged in as {self.me}")
        self.load_account(ident)

    def account_for_login(self, ident: str) -> None:
        """Before logging in as `ident`: its state and history, if it is stored here.

        An account not stored here (/login ID TOKEN on a new machine) gets its
        folder only once the server accepts the login (load_account after 04), so
        a wrong id or token leaves nothing behind, and shows no account meanwhile.
        """
        if ident in profile.list_accounts(self.root):
            self.use_account(ident)
        elif self.logged_in:
            raise SessionError(f"already logged in as {self.me}")
        else:
            self.unload_account()

    def load_account(self, ident: str) -> None:
        """Switch to `ident`'s state and history (use_account, or after 02/04)."""
        if self.state is not None and self.state.me == ident:
            return
        state = State(ident)
        history = History(profile.account_dir(self.root, ident), state)  # may be locked
        self.unload_account()
        self.state, self.history = state, history
        for warning in history.warnings:
            self.notify(Notice("warning", text=warning))
        history.watchers.append(self.finder.heard)  # an edited text is folded again
        self._prepare_search(state)

    def _prepare_search(self, state: State) -> None:
        """Fold the history for /search in the background, if an event loop runs."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a test, an export): the first search folds it
        self.folding = loop.create_task(self.finder.prepare(state))

    def unload_account(self) -> None:
        """No account in use: before a login from a new machine, or after one refused."""
        if self.history is not None:
            self.history.close()
        if self.folding is not None:
            self.folding.cancel()
        self.state = self.history = None
        self.open_peer = None
        self._reads_sent.clear()
        self.blocks.reset()
        self.live.reset()
        self.touch()

    # ---- the connection, logging in (lifecycle.py) ------------------------------

    def start_login(self, ident: str | None, token: str | None = None) -> None:
        """Log in as `ident` (None: the account in use, as after being signed out) now
        and after every reconnect; the token is stored if new."""
        self.lifecycle.start_login(ident, token)

    def start_register(self, code: str | None = None) -> None:
        """Register (with an invite code if given: frame 20) now; log in with the new
        account after every reconnect."""
        self.lifecycle.start_register(code)

    async def answer(self, timeout: float) -> bool:
        """Wait for the 02/04 (True) or 13 (False) that answers start_register/start_login."""
        return await self.lifecycle.answer(timeout)

    async def run_network(self) -> None:
        """Connect once there is something to say, and stay (until close())."""
        await self.lifecycle.run_network()

    async def close(self) -> None:
        """Leave: say what still waits in the outbox (it goes at the next start), close."""
        self._say_what_waits()
        self.lifecycle.close()
        self.outbox.cancel_retry()
        await self.net.close()
        if self.history is not None:
            self.history.close()
        if self.folding is not None:
            self.folding.cancel()

    # ---- requests from the user -------------------------------------------------

    def send_text(self, peer: str, text: str) -> Message:
        """Journal a new message as pending and send it if we can (else it waits).

        Its line breaks, however written, go as U+2028 (lines.py)."""
        history, state = self.need_history(), self.need_state()
        self._may_queue()
        text = to_wire(text)
        problem = text_problem(text)
        if problem:
            raise SessionError(f"cannot send: {problem}")
        if not is_member(state, peer):
            raise SessionError(f"cannot send: {NOT_IN_GROUP}")
        now = self.now()
        ts = state.next_ts(peer, now)
        history.apply("msg", durable=True, src=state.me, dst=peer, ts=ts, text=text,
                      tick=int(Tick.PENDING), at=now)
        message = state.messages[(state.me, peer, ts)]
        self.outbox.submit(message)
        self.live.presence.stopped_typing(peer)
        self._say_if_held()
        self.touch()
        return message

    def act_on(self, message: Message, kind: ActKind, text: str = "") -> Message | Act:
        """A reply, edit, deletion or reaction about `message` (acting.py): journaled as
        pending, sent if we can (else it waits, as a message does); not in a group we left."""
        self._may_queue()
        state = self.need_state()
        if not is_member(state, state.peer_of(message.src, message.dst)):
            raise SessionError(f"cannot send: {NOT_IN_GROUP}")
        item = acting.act_on(self, message, kind, text)
        self._say_if_held()
        self.touch()
        return item

    def search(self, words: str, peer: str | None = None) -> Found:
        """/search: the history's messages holding every word (in `peer`'s chat only)."""
        return self.finder.search(self.need_state(), words, peer)

    def create_group(self, members: tuple[str, ...],
                     name: str | None = None) -> asyncio.Future[str | None]:
        """Journal and send a 10 (and, once its 11 comes, a 23 naming the group `name`);
        the future gets the new group's id (None if refused)."""
        history, state = self.need_history(), self.need_state()
        self._may_queue()
        others = tuple(m for m in members if m != state.me)
        if len(set(others)) != len(others):
            raise SessionError("each member may be listed only once")
        if not MIN_GROUP_MEMBERS <= len(others) <= MAX_GROUP_MEMBERS:
            raise SessionError(f"a group has {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} "
                               "members besides you")
        if name is not None and (problem := name_problem(name)):
            raise SessionError(f"cannot name the group: {problem}")
        ts = state.next_create_ts(self.now())
        named = {} if name is None else {"name": name}
        history.apply("create", durable=True, ts=ts, members=list(others), **named)
        future = self.outbox.await_group(ts)
        self.outbox.submit(state.pending_groups[ts])
        self._say_if_held()
        return future

    def set_name(self, name: str) -> WantedName:
        """/name: journal and send a 21; it waits in the outbox until its 22."""
        history = self.need_history()
        self._may_queue()
        problem = name_problem(name)
        if problem:
            raise SessionError(f"cannot take that name: {problem}")
        history.apply("want_name", durable=True, name=name)
        wanted = WantedName(name)
        self.outbox.submit(wanted)
        self._say_if_held()
        return wanted

    def change_group(self, group: str, op: str, arg: str = "") -> PendingChange:
        """/rename, /invite, /remove, /promote, /demote, /leave: journal and send a 23; it
        waits in the outbox until its 24 (people.py)."""
        history, state = self.need_history(), self.need_state()
        self._may_queue()
        if group not in state.conversations or not state.conversation(group).is_group:
            raise SessionError(f"{group} is not a group you know")
        if not is_member(state, group):
            raise SessionError(NOT_IN_GROUP)
        if op == "N" and (problem := name_problem(arg)):
            raise SessionError(f"cannot rename the group: {problem}")
        ts = state.next_create_ts(self.now())
        history.apply("change", durable=True, group=group, ts=ts, op=op, arg=arg)
        change = state.people.changes[group, ts]
        self.outbox.submit(change)
        self._say_if_held()
        self.touch()
        return change

    def _may_queue(self) -> None:
        """A new request is taken if it will be sent: now, after a reconnect, or after
        the /login that takes a signed-out account back."""
        if not (self.can_send or self.signed_out):
            raise SessionError(NOT_LOGGED_IN)

    def _say_if_held(self) -> None:
        if self.signed_out:
            self.notify(Notice("warning", text=HELD_SIGNED_OUT))

    def add_contact(self, ident: str, alias: str | None) -> None:
        self.need_history().apply("alias", ident=ident, alias=alias)
        self.touch()

    def open(self, peer: str | None) -> None:
        """Show `peer` (None: no conversation) and confirm what it shows as read."""
        self.open_peer, self.selected = peer, None
        if peer is not None:
            self.need_state().conversation(peer)
            self.mark_read(peer)
            self.live.watch(peer)  # a 1:1 chat's header says online or last seen
        self.touch()

    def mark_read(self, peer: str) -> bool:
        """Send 08 for everything received from `peer` if it covers something new."""
        state = self.need_state()
        conv = state.conversation(peer)
        newest = conv.newest_received()
        if (newest <= conv.seen and not conv.late) or not self.logged_in:
            return False  # nothing new: the server would ignore it (or we are offline)
        if not is_member(state, peer):
            return False  # a group we left: the server would refuse it (13/07)
        self.net.send(ev.Read(peer, newest))
        self._reads_sent[peer] = newest
        self.need_history().apply("seen", peer=peer, ts=newest)
        self.touch()
        return True

    def repeat_reads(self) -> None:
        """After a login: each 08 again (one may have died with a server), and the open chat's."""
        state = self.need_state()
        for peer, ts in self._reads_sent.items():
            if is_member(state, peer):
                self.net.send(ev.Read(peer, ts))
        if self.open_peer is not None:
            self.mark_read(self.open_peer)

    def _say_what_waits(self) -> None:
        if self.state is None:
            return
        waiting = list(self.state.outbox())
        if waiting:
            groups = sum(1 for item in waiting if isinstance(item, PendingGroup))
            messages = sum(1 for item in waiting if isinstance(item, Message))
            self.notify(Notice("pending", count=len(waiting),
                               text=waiting_words(messages, groups,
                                                  len(waiting) - groups - messages)))

    def now(self) -> int:
        """Our clock, in Unix seconds (a parameter in tests)."""
        return int(self._clock())

    def clock(self) -> float:
        """Our clock with its fraction (typing notices last seconds)."""
        return self._clock()
