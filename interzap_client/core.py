"""The session: one account's chat rules between the connection, the state and the history.

Theory of operation. Every server event is applied to the State through the
History (so it is journaled), then announced as a Notice. The order matters:
a received message (06) is on disk, fsync'd, before its 12 leaves, and the 12
is sent again for a repeat, because the server keeps redelivering until it
hears it (PROTOCOL.md, "Message identity and delivery"). Our own messages and
group requests are journaled as pending before they are sent; everything
pending is the outbox, sent again with the same key after every login until
answered with 16 (or 11). The server answers frames in order and 05, 10, 01,
03 always get exactly one answer, so a 13 is matched to the oldest of those
still unanswered (`_awaiting`); 08 and 12 are only sent when they cannot fail
(and network.py paces everything under the server's flood limit).
Refuses to know about sockets (network.py), files (history.py, profile.py)
and how things are shown (script.py, ui/).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from interzap_client import profile
from interzap_client.history import History
from interzap_client.network import Connection
from interzap_client.notices import Announcer, Notice, error_words
from interzap_client.state import Message, PendingGroup, State, Tick
from shared import events as ev
from shared.codec import text_problem
from shared.codes import ErrorCode

log = logging.getLogger(__name__)

RETRY_DELAY = 1.0
"""Seconds before an outbox entry refused for a passing reason is sent again."""
QUEUE_FULL = 14
"""13/14: the recipient's queue is full; the 05 was not accepted (by number: a newer code)."""
_TRANSIENT = frozenset({ErrorCode.INTERNAL, ErrorCode.RATE_LIMITED, QUEUE_FULL})
_CONNECTION_ERRORS = frozenset({13, 15})
"""13/13 server full, 13/15 timeout: the server closes the connection; we reconnect."""
_TICK_EVENTS = {Tick.ACCEPTED: "accepted", Tick.DELIVERED: "delivered"}

Awaited = tuple[str, object]
"""("msg", (dst, ts)), ("group", ts), ("login", None) or ("register", None)."""


class SessionError(Exception):
    """A request the session cannot carry out; the message is for a person."""


class Session(Announcer):
    """One account (once known) on one server, with its state, history and outbox."""

    def __init__(self, root: Path, host: str, port: int, token: str | None = None,
                 clock: Callable[[], float] = time.time, **net_options: float) -> None:
        super().__init__()
        self.root = root
        self.server = f"{host}:{port}"
        self.state: State | None = None
        self.history: History | None = None
        self.open_peer: str | None = None
        self.logged_in = False
        self.status = "offline"  # offline | connecting | connected | reconnecting
        self.received = 0  # new messages stored during this session (/wait received)
        self._token = token  # --token: used by a /login without one
        self._clock = clock
        self._credentials: tuple[str, str] | None = None  # what to log in with
        self._registering = False
        self._ever_logged_in = False
        # the last 08 sent per conversation: an 08 has no answer, and one lost with a
        # dying server would never come again, so each is repeated after a reconnect
        # (the server ignores an 08 that covers nothing new)
        self._reads_sent: dict[str, int] = {}
        self._awaiting: deque[Awaited] = deque()
        self._answer: asyncio.Future[bool] | None = None  # of a running register/login
        self._groups: dict[int, asyncio.Future[str | None]] = {}
        self._retry: asyncio.TimerHandle | None = None
        self._closing = False
        self._wanted = asyncio.Event()  # set by the first login or registration
        self.net = Connection(host, port, self._on_event, self._on_up, self._on_down,
                              self._on_garbage, **net_options)

    # ---- plumbing ---------------------------------------------------------

    @property
    def me(self) -> str | None:
        return self.state.me if self.state else None

    def _now(self) -> int:
        return int(self._clock())

    def _history(self) -> History:
        if self.history is None:
            raise SessionError("no account yet: /register or /login ID first")
        return self.history

    def use_account(self, ident: str) -> None:
        """Load the state and history of `ident` (before logging in, or offline)."""
        if self.state is not None and self.state.me == ident:
            return
        if self.logged_in:
            raise SessionError(f"already logged in as {self.me}")
        state = State(ident)
        history = History(profile.account_dir(self.root, ident), state)  # may be locked
        if self.history is not None:
            self.history.close()
        self.state, self.history = state, history
        self.open_peer = None
        self._reads_sent.clear()
        for warning in self.history.warnings:
            self.notify(Notice("warning", text=warning))

    async def run_network(self) -> None:
        """Connect once there is something to say (a login or a registration), and stay.

        Not before: a server may close a connection that does not log in soon.
        """
        while not self._closing:
            await self._wanted.wait()
            if self._closing:
                return
            self.net.resume()
            self.status = "connecting"
            self._touch()
            await self.net.run()  # returns after close(), or after _give_up()

    def _give_up(self) -> None:
        """Stop (re)connecting until the next /login or /register: nothing left to say."""
        self._wanted.clear()
        self.net.pause()

    async def close(self) -> None:
        self._closing = True  # our own goodbye is no "disconnected"
        self._wanted.set()  # let run_network() see it
        if self._retry is not None:
            self._retry.cancel()
        await self.net.close()
        if self.history is not None:
            self.history.close()

    # ---- requests from the user ---------------------------------------------

    def start_login(self, ident: str, token: str | None = None) -> None:
        """Log in as `ident` now and after every reconnect; the token is stored if new."""
        profile.check_id(ident)
        token = token or self._token or profile.load_token(self.root, ident)
        profile.check_token(token)
        self.use_account(ident)
        self._credentials = (ident, token)
        self._registering = False
        self._answer = asyncio.get_running_loop().create_future()
        self._wanted.set()
        if self.net.connected and not self.logged_in:
            self._send_hello()

    def start_register(self) -> None:
        if self.logged_in:
            raise SessionError(f"already logged in as {self.me}")
        self._registering = True
        self._credentials = None
        self._answer = asyncio.get_running_loop().create_future()
        self._wanted.set()
        if self.net.connected:
            self._send_hello()

    async def answer(self, timeout: float) -> bool:
        """Wait for the 02/04 (True) or 13 (False) that answers start_register/start_login."""
        if self.logged_in:
            return True
        if self._answer is None:
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), timeout)
        except TimeoutError:
            self.fail(f"no answer from the server {self.server} within {timeout:g} s")
            return False

    def send_text(self, peer: str, text: str) -> Message:
        """Journal a new message as pending and send it if we can (else it waits)."""
        history, state = self._history(), self._state()
        if not self.can_send:
            raise SessionError("not logged in: /login ID [TOKEN] first")
        problem = text_problem(text)
        if problem:
            raise SessionError(f"cannot send: {problem}")
        ts = state.next_ts(peer, self._now())
        history.apply("msg", durable=True, src=state.me, dst=peer, ts=ts, text=text,
                      tick=int(Tick.PENDING))
        message = state.messages[(state.me, peer, ts)]
        if self.logged_in:
            self._send_out(message)
        self._touch()
        return message

    def create_group(self, members: tuple[str, ...]) -> asyncio.Future[str | None]:
        """Journal and send a 10; the future gets the new group's id (None if refused)."""
        history, state = self._history(), self._state()
        if not self.can_send:
            raise SessionError("not logged in: /login ID [TOKEN] first")
        others = tuple(m for m in members if m != state.me)
        if len(set(others)) != len(others):
            raise SessionError("each member may be listed only once")
        if not 1 <= len(others) <= 8:
            raise SessionError("a group has 1 to 8 members besides you")
        ts = state.next_create_ts(self._now())
        history.apply("create", durable=True, ts=ts, members=list(others))
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._groups[ts] = future
        if self.logged_in:
            self._send_out(state.pending_groups[ts])
        return future

    def add_contact(self, ident: str, alias: str | None) -> None:
        self._history().apply("alias", ident=ident, alias=alias)
        self._touch()

    def open(self, peer: str | None) -> None:
        """Show `peer` (None: no conversation) and confirm what it shows as read."""
        self.open_peer = peer
        if peer is not None:
            self._state().conversation(peer)
            self.mark_read(peer)
        self._touch()

    def mark_read(self, peer: str) -> bool:
        """Send 08 for everything received from `peer` if it covers something new."""
        state = self._state()
        conv = state.conversation(peer)
        newest = conv.newest_received()
        if (newest <= conv.seen and not conv.late) or not self.logged_in:
            return False  # nothing new: the server would ignore it (or we are offline)
        self.net.send(ev.Read(peer, newest))
        self._reads_sent[peer] = newest
        self._history().apply("seen", peer=peer, ts=newest)
        self._touch()
        return True

    @property
    def can_send(self) -> bool:
        """Logged in, or able to log in again by itself (so an outbox will drain)."""
        return self.logged_in or self._credentials is not None

    def outbox_empty(self) -> bool:
        return self.state is None or next(self.state.outbox(), None) is None

    def _state(self) -> State:
        if self.state is None:
            raise SessionError("no account yet: /register or /login ID first")
        return self.state

    # ---- the connection -----------------------------------------------------

    def _send_hello(self) -> None:
        if self._registering:
            self.net.send(ev.Register())
            self._awaiting.append(("register", None))
        elif self._credentials is not None:
            self.net.send(ev.Login(*self._credentials))
            self._awaiting.append(("login", None))

    def _send_out(self, item: Message | PendingGroup) -> None:
        me = self._state().me
        if isinstance(item, PendingGroup):
            if self.net.send(ev.CreateGroup(me, item.ts, item.members)):
                self._awaiting.append(("group", item.ts))
        elif self.net.send(ev.Send(me, item.dst, item.ts, item.text)):
            self._awaiting.append(("msg", (item.dst, item.ts)))

    def _flush_outbox(self) -> None:
        """Send everything pending that is not already on its way, in order, same keys."""
        self._retry = None
        if not self.logged_in or self.state is None:
            return
        on_the_way = set(self._awaiting)
        for item in list(self.state.outbox()):
            mark = ("group", item.ts) if isinstance(item, PendingGroup) else (
                "msg", (item.dst, item.ts))
            if mark not in on_the_way:
                self._send_out(item)

    def _on_up(self) -> None:
        self.status = "connected"
        self._awaiting.clear()
        self._send_hello()
        self._touch()

    def _on_down(self, reason: str) -> None:
        was_logged_in = self.logged_in
        self.logged_in = False
        self._awaiting.clear()
        self.status = "offline" if self.net.stopped else "reconnecting"
        if was_logged_in and not self._closing:
            self.notify(Notice("disconnected", text=reason))
        else:
            self._touch()

    def _on_garbage(self, reason: str) -> None:
        self.fail(reason)

    def _settle(self, ok: bool) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(ok)

    def _forget(self, mark: Awaited) -> None:
        if mark in self._awaiting:
            self._awaiting.remove(mark)

    # ---- events from the server -----------------------------------------------

    def _on_event(self, event: ev.Event) -> None:
        handlers: dict[type, Callable[..., None]] = {
            ev.Registered: self._registered, ev.LoggedIn: self._logged_in,
            ev.Deliver: self._deliver, ev.Accepted: self._accepted,
            ev.Delivered: self._delivered, ev.ReadNotice: self._read_notice,
            ev.GroupCreated: self._group_created, ev.Error: self._error,
        }  # 00 (greeting) and 15 (pong) need nothing; 14 is answered by network.py
        handler = handlers.get(type(event))
        if handler is None:
            return
        try:
            handler(event)
        except (OSError, SessionError, profile.ProfileError) as exc:
            # e.g. a full disk: the 06 is not stored, so no 12 left and it comes again
            log.exception("handling %r failed", event)
            self.fail(f"could not handle a frame from the server: {exc}")

    def _registered(self, event: ev.Registered) -> None:
        self._forget(("register", None))
        profile.save_account(self.root, event.user, event.token)
        self._registering = False
        self.use_account(event.user)
        self._credentials = (event.user, event.token)
        self._logged_in_as(event.user, "registered")

    def _logged_in(self, event: ev.LoggedIn) -> None:
        self._forget(("login", None))
        if self._credentials is not None:
            ident, token = self._credentials
            try:
                if profile.load_token(self.root, ident) != token:
                    profile.save_account(self.root, ident, token)
            except profile.ProfileError:
                profile.save_account(self.root, ident, token)  # a login from a new machine
        self._logged_in_as(event.user, "reconnected" if self._ever_logged_in else "logged_in")

    def _logged_in_as(self, ident: str, event: str) -> None:
        self.logged_in = True
        self._ever_logged_in = True
        self.status = "connected"
        self.notify(Notice(event, id=ident))
        self._settle(True)
        self._flush_outbox()
        for peer, ts in self._reads_sent.items():
            self.net.send(ev.Read(peer, ts))
        if self.open_peer is not None:
            self.mark_read(self.open_peer)

    def _deliver(self, event: ev.Deliver) -> None:
        if self.history is None:
            return
        state = self._state()
        new = self.history.apply("msg", durable=True, src=event.src, dst=event.dst,
                                 ts=event.ts, text=event.text)
        # on disk first, then 12 -- and 12 again for a repeat: the server waits for it
        self.net.send(ev.Receipt(event.src, event.dst, event.ts))
        if not new:
            return
        self.received += 1
        peer = state.peer_of(event.src, event.dst)
        group = event.dst if peer == event.dst else None
        self.notify(Notice("message", peer=peer, author=event.src, ts=event.ts,
                           text=event.text, group=group))
        if peer == self.open_peer:
            self.mark_read(peer)

    def _tick(self, dst: str, ts: int, tick: Tick) -> None:
        if self.history is not None and self.history.apply(
                "tick", dst=dst, ts=ts, tick=int(tick)):
            self.notify(Notice(_TICK_EVENTS[tick], peer=dst, ts=ts))

    def _accepted(self, event: ev.Accepted) -> None:
        self._forget(("msg", (event.dst, event.ts)))
        self._tick(event.dst, event.ts, Tick.ACCEPTED)

    def _delivered(self, event: ev.Delivered) -> None:
        self._tick(event.dst, event.ts, Tick.DELIVERED)

    def _read_notice(self, event: ev.ReadNotice) -> None:
        if self.history is not None and self.history.apply("read", peer=event.peer,
                                                           ts=event.ts):
            self.notify(Notice("read", peer=event.peer, ts=event.ts))

    def _group_created(self, event: ev.GroupCreated) -> None:
        if self.history is None:
            return
        state = self._state()
        ours = bool(event.members) and event.members[0] == state.me
        mine = ours and event.ts in state.pending_groups
        if ours:
            self._forget(("group", event.ts))
        if self.history.apply("group", group=event.group, ts=event.ts,
                              members=list(event.members)):
            self.notify(Notice("group", group=event.group, ts=event.ts,
                               members=event.members, peer=event.group))
        if mine:
            self.open(event.group)
        future = self._groups.pop(event.ts, None) if ours else None
        if future is not None and not future.done():
            future.set_result(event.group)

    def _error(self, event: ev.Error) -> None:
        code = event.code
        words = f"{error_words(code)} ({event.reason})" if event.reason else error_words(code)
        if code == ErrorCode.REPLACED:  # unsolicited: the server closes us next
            self._credentials = None  # do not take the account back from the other client
            self._give_up()
            self.fail(words, code)
            return
        if code in _CONNECTION_ERRORS:  # about the connection, not a frame: it closes next
            self.fail(words, code)
            return
        what, detail = self._awaiting.popleft() if self._awaiting else ("", None)
        if what == "msg" and isinstance(detail, tuple):
            dst, ts = detail
            if code in _TRANSIENT:  # not accepted, not lost: the same key goes again
                self._schedule_retry()
                self.notify(Notice("warning", code=code, text=words, peer=dst, ts=ts))
                return
            if self.history is not None:
                self.history.apply("tick", dst=dst, ts=ts, tick=int(Tick.FAILED))
            self.fail(words, code, peer=dst, ts=ts)
        elif what == "group" and isinstance(detail, int):
            if code in _TRANSIENT:
                self._schedule_retry()
                self.notify(Notice("warning", code=code, text=words))
                return
            if self.history is not None:
                self.history.apply("drop_create", ts=detail)
            future = self._groups.pop(detail, None)
            if future is not None and not future.done():
                future.set_result(None)
            self.fail(words, code)
        else:
            self.fail(words, code)
            if what in ("login", "register"):
                if what == "register" or code == ErrorCode.BAD_CREDENTIALS:
                    # nothing to retry at each reconnect (an idle connection gets closed)
                    self._credentials = None
                    self._registering = False
                    self._give_up()
                self._settle(False)

    def _schedule_retry(self) -> None:
        if self._retry is None:
            loop = asyncio.get_running_loop()
            self._retry = loop.call_later(RETRY_DELAY, self._flush_outbox)
