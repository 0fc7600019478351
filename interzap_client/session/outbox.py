"""The outbox: the requests awaiting an answer, and the queue of what waits to be sent.

Theory of operation. The server answers a connection's frames in order, and
01, 03, 05, 10, 17, 18, 21, 23, 25, 28 and 29 always get exactly one answer (02,
04, 16, 11, 19, 22, 24, 26 or 30, else a 13;
PROTOCOL.md 1: "A 13 does not say which frame it answers: count"), while 08
and 12 are only sent when they cannot fail. So every such frame that leaves
is recorded as a typed request at the end of a FIFO: a 13 answers the oldest
record still in it, and the record's type says what was refused. A 16, 11,
02 or 04 takes its own record out.

Our messages and group requests are journaled as pending before they are sent
(facade.py), so the queue is the State's outbox, in the order it was made.
flush() sends, in that order and with the same keys, every entry that is not
already on its way, after every login. A dropped link loses nothing of the
queue; clear() only forgets what was on its way.

A refusal for now (13/10 too fast, 13/14 queue full, 13/99) stalls the queue,
because a recipient gets 06s in the order the server accepted them (5.3): the
frames after the refused one may be accepted already, and a refused one must
not overtake, nor be overtaken by, anything sent after it. So while stalled
nothing new leaves, the frames still waiting for the pacer are taken back
(never sent, they get no answer), and the answers for what is on its way come
in (a further refusal among them is one more entry to send again). Once
nothing is on its way the queue resumes: flush() sends again from the oldest
pending entry, in order -- at once after 13/10 (the pacer, slowed down, spaces
them), RETRY_DELAY later after the others. An entry accepted meanwhile and
sent again costs nothing (16 again, no second 06: 5.2). The user is told once
per stall (for 13/14 and 13/99: once per try), and a limit already stated
only once: not once per refused frame.

What this cannot prevent: a frame written after a refused one but before that
13/10 came back is accepted if the server's bucket gained a token in between
(1/limit seconds); on a link whose round trip is longer, such a frame arrives
before the refused one.

Refuses to know about sockets (the session's Connection sends), the journal's
format, logging in (lifecycle.py) and how anything is shown.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from interzap_client.conversations import Message, PendingGroup, Tick
from interzap_client.message_acts import Act
from interzap_client.notices import Notice, Origin
from interzap_client.pacing import stated_limit
from interzap_client.people import PendingChange, WantedName
from shared import events as ev
from shared.codes import ActKind, ErrorCode

if TYPE_CHECKING:
    from interzap_client.session.facade import Session

RETRY_DELAY = 1.0
"""Seconds before the queue resumes after 13/14 or 13/99 (after 13/10 the pacer waits)."""
TRANSIENT = frozenset({ErrorCode.INTERNAL, ErrorCode.RATE_LIMITED, ErrorCode.QUEUE_FULL})
"""13 codes that refuse a 05 or 10 for now: not accepted, not lost; the same key goes again."""


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A 05 or 31 of ours, named by its key; answered by 16 or a 13."""

    dst: str
    ts: int


@dataclass(frozen=True, slots=True)
class GroupRequest:
    """A 10 of ours; answered by the 11 that names us as creator with this ts, or a 13."""

    ts: int


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """A 03; answered by 04 or a 13. Also what the session says again after a reconnect."""

    ident: str
    token: str = field(repr=False)  # a secret: never in a log line


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    """A 01, or a 20 with an invite code; answered by 02 or a 13."""

    code: str | None = field(default=None, repr=False)  # an invite: not for the log


@dataclass(frozen=True, slots=True)
class BlockRequest:
    """A 17 (on) or 18 (off); answered by a 19 (which names no one: the oldest) or a 13."""

    user: str
    on: bool


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A 23 of ours; answered by the 24 naming us as actor with this key, or a 13."""

    group: str
    ts: int


@dataclass(frozen=True, slots=True)
class InfoRequest:
    """A 25 about our message ts in group; answered by the 26 about it, or a 13."""

    group: str
    ts: int


@dataclass(frozen=True, slots=True)
class NameRequest:
    """A 21 of ours; answered by the 22 naming us with this name, or a 13."""

    name: str


@dataclass(frozen=True, slots=True)
class PresenceRequest:
    """A 29 about user; answered by a 30 about them (maybe news that came first), or a 13."""

    user: str


@dataclass(frozen=True, slots=True)
class PrivacyRequest:
    """A 28; answered by the 30 about ourselves (HIDDEN: hidden), or a 13."""

    hidden: bool


Hello = LoginRequest | RegisterRequest
"""What a new link says first."""
Request = (SendRequest | GroupRequest | LoginRequest | RegisterRequest | BlockRequest
           | ChangeRequest | NameRequest | InfoRequest | PresenceRequest | PrivacyRequest)
"""Everything that gets exactly one answer."""
Queued = Message | PendingGroup | PendingChange | WantedName | Act
"""An entry of the State's outbox."""
QUEUED_FRAMES = (ev.Send, ev.CreateGroup, ev.GroupChange, ev.SetName, ev.Act)
"""The frames of those entries (a tuple, for isinstance)."""
QueuedFrame = ev.Send | ev.CreateGroup | ev.GroupChange | ev.SetName | ev.Act


def entry(me: str, item: Queued) -> tuple[Request, ev.Event]:
    """The request record and the frame for one entry of the State's outbox: a message (05,
    or 31 R for a reply), a group (10), a change of one (23), our name (21), an edit,
    deletion or reaction (31); each 31 is answered by a 16, as a 05."""
    if isinstance(item, PendingGroup):
        return GroupRequest(item.ts), ev.CreateGroup(me, item.ts, item.members)
    if isinstance(item, PendingChange):
        return (ChangeRequest(item.group, item.ts),
                ev.GroupChange(item.group, item.ts, item.op, item.arg))
    if isinstance(item, WantedName):
        return NameRequest(item.name), ev.SetName(item.name)
    request = SendRequest(item.dst, item.ts)
    if isinstance(item, Act):
        return request, ev.Act(me, item.dst, item.ts, item.kind, item.ref_src, item.ref_ts,
                               item.text)
    if item.reply is not None:
        return request, ev.Act(me, item.dst, item.ts, ActKind.REPLY, *item.reply, item.text)
    return request, ev.Send(me, item.dst, item.ts, item.text)


def request_of(frame: QueuedFrame) -> Request:
    """The request record that a 05, 10, 21, 23 or 31 of ours is awaited as."""
    if isinstance(frame, ev.CreateGroup):
        return GroupRequest(frame.ts)
    if isinstance(frame, ev.GroupChange):
        return ChangeRequest(frame.group, frame.ts)
    if isinstance(frame, ev.SetName):
        return NameRequest(frame.name)
    return SendRequest(frame.dst, frame.ts)


class Outbox:
    """The FIFO of awaited answers, the ordered queue of pending entries, and stalls."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._awaited: deque[Request] = deque()
        self._groups: dict[int, asyncio.Future[str | None]] = {}  # 10 ts -> /group's future
        self._stalled: int | None = None  # the 13 code that stalled the queue, if it is
        self._resume: asyncio.TimerHandle | None = None
        self._told = ""  # the last 13/10 stall's words shown: the same are not shown again
        self._origins: dict[Request, Origin] = {}  # the script lines of unanswered entries

    # ---- the FIFO of awaited answers ------------------------------------------

    def send(self, request: Request, frame: ev.Event) -> bool:
        """Send `frame` and await its answer as `request`; False without a link."""
        if not self._session.net.send(frame):
            return False
        self._awaited.append(request)
        return True

    def answered(self, request: Request) -> bool:
        """Take `request` out of the awaited ones (its 16, 11, 02 or 04 came)."""
        self._origins.pop(request, None)
        try:
            self._awaited.remove(request)
        except ValueError:
            return False  # a repeated answer, or one from before the last reconnect
        return True

    def answered_block(self) -> BlockRequest | None:
        """Take out the oldest 17 or 18 awaited (a 19 came), if there is one."""
        for request in self._awaited:
            if isinstance(request, BlockRequest):
                self._awaited.remove(request)
                return request
        return None

    def refused_block(self, request: BlockRequest, code: int, words: str) -> None:
        """A 13 answered a 17 or 18 (yourself, no such user, or for now): said, not retried."""
        self._session.blocks.settle(request)
        self._session.fail_about(None, words, code)

    def oldest(self) -> Request | None:
        """The request a 13 answers: the oldest one awaited, taken out (None: no one)."""
        return self._awaited.popleft() if self._awaited else None

    def clear(self) -> None:
        """A link went down or came up: nothing is on its way any more, nothing stalls."""
        self._awaited.clear()
        self.cancel_retry()
        self._stalled, self._told = None, ""

    # ---- the queue ------------------------------------------------------------

    def queue(self) -> Iterator[tuple[Request, ev.Event]]:
        """Every pending entry as (request, frame), in the order it was made."""
        state = self._session.state
        if state is not None:
            for item in state.outbox():
                yield entry(state.me, item)

    def submit(self, item: Queued) -> None:
        """A new entry, already journaled as pending: sent now if it can be, else later."""
        request, frame = entry(self._session.need_state().me, item)
        if self._session.origin is not None:
            self._origins[request] = self._session.origin
        if self._session.logged_in and self._stalled is None:
            self.send(request, frame)

    def first_line_in_flight(self) -> int | None:
        """The earliest script line whose entry is on its way (its answer is due soon)."""
        lines = [origin.line for r in self._awaited if (origin := self._origins.get(r))]
        return min(lines, default=None)

    def flush(self) -> None:
        """Send every entry not already on its way, in order, with the same keys."""
        if not self._session.logged_in or self._stalled is not None:
            return
        on_the_way = set(self._awaited)
        for request, frame in list(self.queue()):
            if request not in on_the_way:
                self.send(request, frame)

    def empty(self) -> bool:
        return next(self.queue(), None) is None

    def await_group(self, ts: int) -> asyncio.Future[str | None]:
        """The future a /group waits on: the new group's id, or None if refused."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._groups[ts] = future
        return future

    def settle_group(self, ts: int, group: str | None) -> None:
        future = self._groups.pop(ts, None)
        if future is not None and not future.done():
            future.set_result(group)

    def cancel_retry(self) -> None:
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None

    # ---- stalls (13/10, 13/14, 13/99) ------------------------------------------

    def _stall(self, code: int, words: str, **about: Any) -> None:
        """Stop sending, take back what has not left, slow down if it was 13/10, say so."""
        self._stalled = code
        net = self._session.net
        gone = {request_of(frame) for frame in net.withdraw(QUEUED_FRAMES)
                if isinstance(frame, QUEUED_FRAMES)}
        if gone:
            self._awaited = deque(r for r in self._awaited if r not in gone)
        if code == ErrorCode.RATE_LIMITED:
            words = self._slowed_down(words)
            if words == self._told:
                return  # the same limit again (a timer's jitter): said already
            self._told = words
        self._session.notify(Notice("warning", code=code, text=words, **about))

    def _slowed_down(self, words: str) -> str:
        rate, limit = self._session.net.slow_down(words), stated_limit(words)
        if limit is not None:
            return f"the server limits this connection to {limit:g} frames a second; slowing down"
        return f"the server refused frames as too fast; slowing down to {rate:g} a second"

    def resume_if_quiet(self) -> None:
        """After each answer: a stalled queue resumes once nothing of it is on its way."""
        if self._stalled is None or self._resume is not None:
            return
        if any(isinstance(r, SendRequest | GroupRequest | ChangeRequest | NameRequest)
               for r in self._awaited):
            return
        delay = 0.0 if self._stalled == ErrorCode.RATE_LIMITED else RETRY_DELAY
        self._resume = asyncio.get_running_loop().call_later(delay, self._resumed)

    def _resumed(self) -> None:
        self._resume, self._stalled = None, None
        self.flush()

    # ---- refusals (13) ---------------------------------------------------------

    def refused_send(self, request: SendRequest, code: int, words: str) -> None:
        """A 13 answered our 05: for now (sent again later), or for good (FAILED)."""
        dst, ts = request.dst, request.ts
        if self._for_now(code, words, peer=dst, ts=ts):
            return
        if self._session.history is not None:
            self._session.history.apply("tick", dst=dst, ts=ts, tick=int(Tick.FAILED))
        self._session.fail_about(self._origins.pop(request, None), words, code, peer=dst, ts=ts)

    def refused_group(self, request: GroupRequest, code: int, words: str) -> None:
        """A 13 answered our 10: for now (sent again later), or for good (dropped)."""
        if self._for_now(code, words):
            return
        if self._session.history is not None:
            self._session.history.apply("drop_create", ts=request.ts)
        self.settle_group(request.ts, None)
        self._session.fail_about(self._origins.pop(request, None), words, code)

    def refused_change(self, request: ChangeRequest, code: int, words: str) -> None:
        """A 13 answered our 23: for now (sent again later), or for good (dropped)."""
        if self._for_now(code, words):
            return
        if self._session.history is not None:
            self._session.history.apply("drop_change", group=request.group, ts=request.ts)
        self._session.fail_about(self._origins.pop(request, None), words, code,
                                 group=request.group)

    def refused_name(self, request: NameRequest, code: int, words: str) -> None:
        """A 13 answered our 21: for now (sent again later), or for good (forgotten)."""
        if self._for_now(code, words):
            return
        history = self._session.history
        if history is not None and history.state.people.wanted == request.name:
            history.apply("want_name", name=None)
        self._session.fail_about(self._origins.pop(request, None), words, code)

    def _for_now(self, code: int, words: str, **about: Any) -> bool:
        """Whether `code` refuses only for now; if so, the queue stalls (once) and resumes
        when nothing is on its way (resume_if_quiet)."""
        if code not in TRANSIENT:
            return False
        if self._stalled is None:
            self._stall(code, words, **about)
        return True
