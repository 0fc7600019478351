"""The chat rules: what each frame means, who is owed what, and when it may leave.

Knows users, groups, sessions (sessions.py) and the store's plain API; knows
no sockets and no SQL.

Theory of operation: the loop wraps each iteration in `with service.batch(now):`,
inside one database transaction. Every frame handed to handle() becomes a unit
whose effects (frames to send) are held until that transaction commits, so no 16
or 06 leaves for something that is not on disk. If the commit fails, each unit
that wrote is answered with 13/99 instead. A transaction holding only 12s, 08s
and confirmations may stay open a few iterations (COMMIT_DELAY) to share one
commit. Every frame owed to a user is a queue entry first; sessions.py sends
the entries.
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from interzap_server.sessions import Link, Session, Sessions
from interzap_server.storage import StorageError, Store
from shared import events as ev
from shared.codec import encode, encode_decoded
from shared.codes import GREETING, MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS, ErrorCode
from shared.errors import RemoteProtocolError
from shared.ids import is_group_id

log = logging.getLogger(__name__)

KEY_MEMORY = 7 * 24 * 3600
"""Seconds a message key is remembered, so that a retransmission is recognised."""
COMMIT_DELAY = 0.005
"""Seconds a transaction holding only frames nobody waits on may stay open for more."""

_ANONYMOUS = (ev.Register, ev.Login, ev.Ping)
_LOGGING_IN = (ev.Register, ev.Login)  # tuples: isinstance with a union type is slower
_WRITING = (ev.Register, ev.Send, ev.CreateGroup, ev.Receipt, ev.Read)
_UNANSWERED = (ev.Receipt, ev.Read)
"""A failed 12 needs no answer: its 06 stays queued and comes again at the next login."""


@dataclass(eq=False, slots=True)
class _Unit:
    """One handled frame and what it causes once the batch commits."""

    session: Session
    effects: list[Callable[[], None]] = field(default_factory=list)
    undo: Callable[[], None] | None = None  # if the batch fails
    wrote: bool = False
    silent: bool = False  # a 12 or 08: never answered, not even when it fails


def hash_token(token: str) -> str:
    """What the database keeps of a token (tokens are 128 random bits: no slow hash needed)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


_NO_USER_HASH = hash_token("0" * 32)  # compared against when the id is unknown: same timing


class Service:
    """handle(link, frame) -> what to send to whom, held until the batch commits."""

    def __init__(self, store: Store, sessions: Sessions, max_queue: int = 10_000) -> None:
        self._store = store
        self._sessions = sessions
        self._max_queue = max_queue  # frames owed to one user before 05s to it are refused
        self._units: list[_Unit] = []
        self._open = False  # a transaction is under way
        self._opened = 0.0  # when it began
        self._urgent = False  # it holds a frame whose answer must not wait
        self._deferred = False  # it holds work that may wait (else it ends with the iteration)
        self._doomed = False  # something failed: roll it back
        self._now = 0
        self._handlers: dict[type, Callable[[_Unit, Any], None]] = {
            ev.Register: self._on_register, ev.Login: self._on_login, ev.Send: self._on_send,
            ev.Receipt: self._on_receipt, ev.Read: self._on_read,
            ev.CreateGroup: self._on_create_group, ev.Ping: self._on_ping,
        }

    # -- connections -----------------------------------------------------------

    def connect(self, link: Link) -> None:
        self._sessions.open(link)
        link.write(encode(ev.Greeting(GREETING)))

    def is_logged_in(self, link: Link) -> bool:
        session = self._sessions.get(link)
        return session is not None and session.user is not None

    def disconnect(self, link: Link) -> None:
        self._sessions.close(link)

    # -- the batch -------------------------------------------------------------

    @contextmanager
    def batch(self, now: float) -> Iterator[None]:
        """One loop iteration: handle frames inside; effects leave after the commit.

        If a frame hits a storage error or a bug, the whole transaction is rolled
        back (no frame is left half-written) and every writing frame in it gets 13/99.

        A transaction that holds only frames nobody is waiting on (12s, 08s, the
        confirmations of written entries, housekeeping) is not committed at once:
        it stays open for the next iterations, up to COMMIT_DELAY, so that one
        commit (one fsync) serves them all. Any other frame commits it.
        """
        self._now = int(now)
        if not self._open:
            self._store.begin()
            self._open, self._opened = True, now
            self._urgent = self._deferred = self._doomed = False
        try:
            yield
        except BaseException:
            self._end(commit=False)
            raise
        if (self._urgent or self._doomed or not self._deferred
                or now >= self._opened + COMMIT_DELAY):  # the very sum commit_due() gives
            self._end(commit=not self._doomed)

    def commit_due(self) -> float | None:
        """When the open transaction must be committed, if one is open (loop time)."""
        return self._opened + COMMIT_DELAY if self._open else None

    def settle(self) -> None:
        """Commit the open transaction now, if there is one (before shutting down)."""
        if self._open:
            self._end(commit=not self._doomed)

    def _end(self, commit: bool) -> None:
        """Commit or roll back the open transaction, then release every unit in it."""
        self._open = False
        try:
            if commit:
                self._store.commit()
            else:
                self._store.rollback()
        except StorageError as exc:
            log.error("%s failed, the batch is answered with 13/99: %s",
                      "commit" if commit else "rollback", exc)
            commit = False
        self._release(committed=commit)

    def _release(self, committed: bool) -> None:
        units, self._units = self._units, []
        for unit in units:
            if unit.wrote and not committed:
                if unit.undo:
                    unit.undo()
                self._fail(unit)
            for effect in unit.effects:
                effect()

    def handle(self, link: Link, item: ev.Event | RemoteProtocolError) -> None:
        """Apply one frame from `link` (or the protocol error it was).

        Handlers check everything before they write, so a refusal never leaves
        rows behind and needs no savepoint.
        """
        session = self._sessions.get(link)
        if session is None or session.retired or isinstance(item, ev.Pong):
            return
        unit = _Unit(session, silent=isinstance(item, _UNANSWERED))
        self._units.append(unit)
        if unit.silent:
            self._deferred = True
        else:
            self._urgent = True  # an answer is awaited; a 14 too: its 15 vouches for all before
        try:
            if isinstance(item, RemoteProtocolError):
                raise item
            self._check_allowed(session, item)
            if isinstance(item, _WRITING):
                # even a 16 for a retransmission may vouch for a row of this very
                # batch: every writing frame waits on the commit
                unit.wrote = True
                if self._doomed:
                    return  # answered with 13/99 when the batch rolls back
            self._handlers[type(item)](unit, item)
        except RemoteProtocolError as refusal:
            unit.wrote = False
            unit.effects = [partial(link.write, encode(ev.Error(refusal.code, refusal.reason)))]
        except StorageError as exc:
            log.error("storage failed on %s, rolling the batch back: %s",
                      type(item).__name__, exc)
            self._doomed = True
        except Exception:
            log.exception("internal error on %s, rolling the batch back", type(item).__name__)
            self._doomed = True
            self._fail(unit)  # whatever kind of frame it was

    @staticmethod
    def _check_allowed(session: Session, event: ev.Event) -> None:
        if session.user is None and not isinstance(event, _ANONYMOUS):
            raise RemoteProtocolError(ErrorCode.NOT_LOGGED_IN, "log in (03) or register (01) first")
        if session.user is not None and isinstance(event, _LOGGING_IN):
            raise RemoteProtocolError(ErrorCode.ALREADY_LOGGED_IN,
                                      f"this connection is already logged in as {session.user}")

    def _fail(self, unit: _Unit) -> None:
        """Replace a unit's effects by 13/99 (or silence): nothing it asked for happened."""
        unit.wrote = False
        if unit.silent:
            unit.effects = []
            return
        unit.effects = [partial(unit.session.link.write, encode(ev.Error(
            ErrorCode.INTERNAL, "the server could not store this; nothing was done, try again")))]

    def forget_confirmed(self, entries: Sequence[int]) -> None:
        """Drop 07, 09 and 11 entries their client confirmed reading (inside a batch)."""
        self._deferred = True
        try:
            self._store.forget(entries)
        except StorageError as exc:
            log.warning("could not drop %d written entries (they may be sent again): %s",
                        len(entries), exc)
            self._doomed = True

    def housekeep(self) -> None:
        """Forget message keys older than KEY_MEMORY whose copies were all acknowledged."""
        self._deferred = True
        try:
            forgotten = self._store.prune(self._now - KEY_MEMORY)
        except StorageError as exc:
            log.warning("housekeeping failed: %s", exc)
            self._doomed = True
        else:
            log.info("forgot %d settled message keys", forgotten)

    def wants_top_up(self) -> bool:
        return self._sessions.wants_top_up()

    def top_up(self) -> None:
        """Send more of the queues of sessions catching up (outside a batch).

        A transaction left open is committed first: the queues must be read as
        they are on disk, or an entry could leave before it is stored.
        """
        if self._open and self._sessions.wants_top_up():
            self.settle()
        self._sessions.top_up()

    # -- helpers ---------------------------------------------------------------

    def _reply(self, unit: _Unit, frame: bytes) -> None:
        unit.effects.append(partial(unit.session.link.write, frame))

    def _owe(self, unit: _Unit, recipients: Sequence[str], frame: bytes,
             message: int | None = None) -> None:
        """Queue `frame` for each recipient; send it after the commit to those online."""
        for recipient in recipients:
            entry = self._store.enqueue(recipient, frame, message)
            self._store.wakeups.notify(recipient)
            unit.effects.append(partial(self._sessions.send_live, recipient, entry, frame,
                                        message is None))

    # -- handlers --------------------------------------------------------------

    def _on_ping(self, unit: _Unit, event: ev.Ping) -> None:
        self._reply(unit, encode(ev.Pong()))

    def _on_register(self, unit: _Unit, event: ev.Register) -> None:
        token = secrets.token_hex(16)
        user = self._store.register(hash_token(token), self._now)
        unit.effects.append(partial(log.info, "registered %s", user))
        self._sessions.log_in(unit.session, user)
        unit.undo = partial(self._sessions.log_out, unit.session)
        self._reply(unit, encode(ev.Registered(user, token)))

    def _on_login(self, unit: _Unit, event: ev.Login) -> None:
        stored = self._store.token_hash(event.user)
        matches = hmac.compare_digest(stored or _NO_USER_HASH, hash_token(event.token))
        if stored is None or not matches:
            raise RemoteProtocolError(ErrorCode.BAD_CREDENTIALS, "unknown id or wrong token")
        log.info("%s logged in", event.user)
        self._sessions.log_in(unit.session, event.user)
        self._reply(unit, encode(ev.LoggedIn(event.user)))

    def _members(self, group: str, user: str) -> tuple[str, ...]:
        """The group's members, if `user` is one of them."""
        members = self._store.group_members(group)
        if members is None:
            raise RemoteProtocolError(ErrorCode.UNKNOWN_PEER, f"there is no group {group}")
        if user not in members:
            raise RemoteProtocolError(ErrorCode.NOT_A_MEMBER, f"you are not a member of {group}")
        return members

    def _require_user(self, user: str) -> None:
        if not self._store.user_exists(user):
            raise RemoteProtocolError(ErrorCode.UNKNOWN_PEER, f"there is no user {user}")

    def _on_send(self, unit: _Unit, event: ev.Send) -> None:
        me = unit.session.user
        assert me is not None
        if event.src != me:
            raise RemoteProtocolError(ErrorCode.NOT_YOU, f"you are {me}, not {event.src}")
        if is_group_id(event.dst):
            recipients = [m for m in self._members(event.dst, me) if m != me]
        else:
            self._require_user(event.dst)
            recipients = [event.dst]
        # one INSERT tells a new key from a retransmission; a full queue refuses only new keys
        full = self._full_queue(recipients)
        if full is None:
            message = self._store.add_message(event.src, event.dst, event.ts, self._now)
            if message is not None:
                # the 06 and the 16 are made of the 05's decoded fields: not checked again
                deliver = encode_decoded(ev.Deliver, event.src, event.dst, event.ts, event.text)
                self._owe(unit, recipients, deliver, message)
        elif not self._store.message_known(event.src, event.dst, event.ts):
            raise RemoteProtocolError(
                ErrorCode.QUEUE_FULL,
                f"{full} has {self._max_queue} undelivered frames; try again later")
        self._reply(unit, encode_decoded(ev.Accepted, event.dst, event.ts))

    def _full_queue(self, recipients: Sequence[str]) -> str | None:
        """A recipient already owed the most frames allowed, if any (error 14)."""
        for recipient in recipients:
            if not self._store.has_room(recipient, self._max_queue):
                return recipient
        return None

    def _on_receipt(self, unit: _Unit, event: ev.Receipt) -> None:
        me = unit.session.user
        assert me is not None
        remaining = self._store.acknowledge(me, event.src, event.dst, event.ts)
        if remaining is None:
            unit.session.link.strike()  # 12s are free only while they acknowledge something
        elif remaining == 0:
            self._owe(unit, [event.src], encode_decoded(ev.Delivered, event.dst, event.ts))

    def _on_read(self, unit: _Unit, event: ev.Read) -> None:
        reader = unit.session.user
        assert reader is not None
        # dst is where the read messages were sent: the reader itself, or the group
        if is_group_id(event.peer):
            dst = event.peer
            members = self._members(dst, reader)
            newest = self._store.newest_acknowledged(dst, reader, event.ts)
        else:
            self._require_user(event.peer)
            dst, members = reader, (reader,)
            newest = self._store.newest_acknowledged(dst, reader, event.ts, event.peer)
        for author, ts in newest.items():
            marks = self._store.read_marks(dst, author)
            if ts <= marks.get(reader, 0):
                continue
            # the author hears of it when everyone else has read up to ts (1:1: the reader)
            others = [m for m in members if m != author] or [reader]
            before = min(marks.get(m, 0) for m in others)
            marks[reader] = ts
            self._store.set_read_mark(dst, author, reader, ts)
            after = min(marks.get(m, 0) for m in others)
            if after > before:
                self._owe(unit, [author], encode(ev.ReadNotice(dst, after)))

    def _on_create_group(self, unit: _Unit, event: ev.CreateGroup) -> None:
        me = unit.session.user
        if event.creator != me:
            raise RemoteProtocolError(ErrorCode.NOT_YOU, f"you are {me}, not {event.creator}")
        people = (me, *event.members)
        existing = self._store.find_group(me, event.ts)
        if existing is not None:
            members = self._members(existing, me)
            self._reply(unit, encode(ev.GroupCreated(existing, event.ts, members)))
            return
        _check_group(me, event.members)
        for member in event.members:
            self._require_user(member)
        group = self._store.create_group(me, event.ts, people, self._now)
        log.info("%s created %s with %d members", me, group, len(people))
        self._owe(unit, people, encode(ev.GroupCreated(group, event.ts, people)))


def _check_group(creator: str, members: Sequence[str]) -> None:
    """The rules of error 08: 1 to 8 members, no duplicate, the creator not listed."""
    if not MIN_GROUP_MEMBERS <= len(members) <= MAX_GROUP_MEMBERS:
        raise RemoteProtocolError(ErrorCode.INVALID_GROUP,
                                  f"a group lists {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} "
                                  f"members besides you, not {len(members)}")
    if len(set(members)) != len(members):
        raise RemoteProtocolError(ErrorCode.INVALID_GROUP, "a member is listed twice")
    if creator in members:
        raise RemoteProtocolError(ErrorCode.INVALID_GROUP,
                                  "do not list yourself: the creator is added anyway")
