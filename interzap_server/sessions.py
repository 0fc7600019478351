"""Who is connected, who is logged in where, and how queued frames reach them.

Knows links (anything that takes bytes) and the store's queue; knows no chat
rules, no sockets and no SQL.

Theory of operation: every frame owed to a user (06, 07, 09, 11) is a queue
entry first. A session sends entries in queue order and keeps a cursor, the
newest entry sent on its connection, so no entry goes twice down one
connection. After login it "catches up": top_up() pages through the queue while
the connection's backlog is small, and live frames wait in the queue behind;
once the queue is exhausted, send_live() sends entries as they are made.

Several nodes on one database (docs/SCALING.md): an entry another node made
arrives as a wake-up (hear()), and the session catches up again from its
cursor, which reads it and anything before it; or, when the wake-up carries the
entry and it is the session's next one, the entry is sent at once, unread. A
node sends an entry of its own live only if the session already has the one
before it in the queue (seqs of a user are handed out one by one, each after
the last holder of the queue's lock committed); otherwise it reads the queue
too, so a cursor never passes an entry another node committed but this one has
not heard of yet. A read that empties
the queue moves the cursor up to the queue's head (Store.queue.page), so that the
next entry can go live. The one session per
user holds across nodes: a login tells the others (Replaced), and the older
session is closed with 13/12. tell() is the way to send an ephemeral frame
(never stored) to a user wherever they are connected.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from interzap_server.storage import (
    Carried,
    Heard,
    Page,
    Replaced,
    Reported,
    Resync,
    StorageError,
    Store,
    Told,
    Wake,
)
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

log = logging.getLogger(__name__)

DRAIN_PAGE = 256
"""Queue entries fetched at a time for a session that is catching up."""
LOW_WATER = 64 * 1024
"""Send more of the queue only while less than this many bytes wait to be sent."""
READ_AGAIN = 0.5
"""Seconds before queues are read again after the database could not be read (the
connection lost, a lock): the sessions wait, still catching up, instead of being closed."""


class Link(Protocol):
    """What the rules need of a connection."""

    def write(self, data: bytes, entry: int | None = None) -> None:
        """Queue bytes; if `entry` is given, report it once the client confirms reading them."""

    def close_when_flushed(self) -> None:
        """Read nothing more; close once everything queued is written."""

    def strike(self) -> None:
        """Charge a frame that did nothing to the connection's flood limit."""

    @property
    def backlog(self) -> int:
        """Bytes queued and not yet written."""


@dataclass(eq=False, slots=True)
class Session:
    """One connection as the rules see it."""

    link: Link
    user: str | None = None
    cursor: int = 0  # the newest queue entry sent on this connection
    catching_up: bool = False
    retired: bool = False  # replaced by a newer login: its input is ignored
    watching: set[str] = field(default_factory=set)  # users whose 30s it asked for (29)
    since: float = 0.0  # when it logged in (Unix time): of two sessions, the older goes
    login_second: int = 0  # when it logged in by the batch's clock (an operator's reset)


class Sessions:
    """Every connection's session, and the one session of each logged-in user."""

    def __init__(self, store: Store, low_water: int = LOW_WATER) -> None:
        self._store = store
        self._low_water = low_water  # stays well below the output cap: see top_up()
        self._by_link: dict[Link, Session] = {}
        self._online: dict[str, Session] = {}
        self._catching_up: set[Session] = set()
        self._shared = store.shared  # other nodes write the same queues
        self._paused_until = 0.0  # no queue is read before then (time.monotonic())
        self._hearing: dict[type, Callable[[Heard], None]] = {
            Wake: self._woken, Carried: self._carried, Told: self._told,
            Replaced: self._replaced, Resync: self._resync}

    def open(self, link: Link) -> Session:
        session = self._by_link[link] = Session(link)
        return session

    def get(self, link: Link) -> Session | None:
        return self._by_link.get(link)

    def close(self, link: Link) -> None:
        session = self._by_link.pop(link, None)
        if session is not None:
            self.log_out(session)

    def log_in(self, session: Session, user: str, now: int = 0) -> None:
        """Make `session` the user's one session (since `now`, the batch's time); an older
        one is told (13/12) and closed."""
        old = self._online.get(user)
        if old is not None:
            self._replace(old)
        session.user = user
        session.watching = set()
        session.login_second = now
        session.cursor = 0
        session.since = time.time()
        self._catch_up(session)
        self._online[user] = session
        if self._shared:
            self._store.wakeups.replace(user, session.since)

    def _replace(self, old: Session) -> None:
        self._close(old, ErrorCode.REPLACED, "you logged in from another connection")

    def _close(self, session: Session, code: ErrorCode, reason: str) -> None:
        """Tell the session why (a 13), close it once its output is flushed, forget it."""
        session.link.write(encode(ev.Error(code, reason)))
        session.link.close_when_flushed()
        session.retired = True
        self.log_out(session)

    def _catch_up(self, session: Session) -> None:
        """Read the session's queue from its cursor (top_up) before sending live again."""
        session.catching_up = True
        self._catching_up.add(session)

    def close_user(self, user: str, code: ErrorCode, reason: str,
                   since_at_most: int | None = None) -> bool:
        """Tell the user's live session why (a 13) and close it; False if not online (or,
        with `since_at_most`, if it logged in later than that)."""
        session = self._online.get(user)
        if session is None or (since_at_most is not None
                               and session.login_second > since_at_most):
            return False
        self._close(session, code, reason)
        return True

    def log_out(self, session: Session) -> None:
        if session.user is not None and self._online.get(session.user) is session:
            del self._online[session.user]
            if self._shared:
                self._store.node.forget_sent(session.user)
        self._catching_up.discard(session)
        session.user = None

    def send_live(self, user: str, entry: int, frame: bytes, report: bool) -> None:
        """Send a new queue entry now if its user is online and not catching up (and if it
        was written: an entry of a retransmission the store took for new was not)."""
        session = self._online.get(user)
        if session is None or session.catching_up or entry <= session.cursor:
            return  # offline, or the entry will come with the queue
        if not self._store.sent(entry):
            return
        if self._shared and entry - 1 > session.cursor:
            self._catch_up(session)  # the entries between may be another node's: read them
            return
        session.link.write(frame, entry if report else None)
        session.cursor = entry
        if self._shared:
            self._store.node.delivered(entry)  # its 12 needs no lookup (storage/places.py)

    def online(self, user: str) -> bool:
        """Whether `user` is logged in on this server."""
        return user in self._online

    def tell(self, user: str, frame: bytes, about: str | None = None) -> None:
        """Send an ephemeral frame (LF included; never stored: 13/12, 27, 30) to `user`
        wherever they are connected: here at once, or through the other nodes when this
        batch commits; a 30 `about` someone only to a connection that asked about them
        (29). Call it from a rule (inside the batch); if the user is online nowhere it is
        dropped."""
        session = self._online.get(user)
        if session is not None:
            if about is None or about in session.watching:
                session.link.write(frame)
        elif self._shared:
            self._store.wakeups.tell(user, frame, about)

    # -- what the other nodes said (storage/wakeups.py) --------------------------------

    def hear(self, heard: Sequence[Heard]) -> None:
        for item in heard:
            self._hearing[type(item)](item)

    def _woken(self, item: Heard) -> None:
        assert isinstance(item, Wake)
        session = self._online.get(item.user)
        if session is not None and item.entry > session.cursor:
            self._catch_up(session)

    def hear_early(self, heard: Sequence[Heard]) -> list[Heard]:
        """While a batch waits for the database: send each carried entry that is its
        session's next, as hear() would; it waits for no commit of this node (another
        committed it, and its NOTIFY came after). The rest, and whatever comes after it
        for the same user, is returned for hear() once the batch is over: it may read
        queues or close sessions, which a batch under way must not see change."""
        later: list[Heard] = []
        waiting: set[str] = set()  # users with something in `later`
        for index, item in enumerate(heard):
            if isinstance(item, Resync):
                return later + list(heard[index:])
            session = self._online.get(item.user)
            if (isinstance(item, Carried) and item.user not in waiting
                    and session is not None and self._is_next(session, item)):
                self._send_carried(session, item)
            else:
                later.append(item)
                waiting.add(item.user)
        return later

    def _carried(self, item: Heard) -> None:
        """An entry carried by its wake-up goes at once if it is the session's next: every
        entry before it was sent (or is gone), so order holds and none is skipped. Any
        other is read with the queue, as a wake-up's (the `w` after it says so too)."""
        assert isinstance(item, Carried)
        session = self._online.get(item.user)
        if session is None or item.entry <= session.cursor:
            return
        if not self._is_next(session, item):
            self._catch_up(session)
            return
        self._send_carried(session, item)

    @staticmethod
    def _is_next(session: Session, item: Carried) -> bool:
        return not session.catching_up and item.entry - 1 == session.cursor

    def _send_carried(self, session: Session, item: Carried) -> None:
        session.link.write(item.frame, item.entry if item.message is None else None)
        session.cursor = item.entry
        if item.message is not None:
            self._store.node.carried(item.entry, item.message)  # its 12 needs no lookup

    def _told(self, item: Heard) -> None:
        assert isinstance(item, Told)
        session = self._online.get(item.user)
        if session is not None and (item.about is None or item.about in session.watching):
            session.link.write(item.frame)

    def _replaced(self, item: Heard) -> None:
        assert isinstance(item, Replaced)
        session = self._online.get(item.user)
        if session is not None and ((session.since, self._store.wakeups.origin)
                                    < (item.at, item.origin)):
            self._replace(session)

    def _resync(self, item: Heard) -> None:
        for session in self._online.values():
            self._catch_up(session)

    def sweep(self) -> None:
        """Shared: the queue heads of everyone online here, in one statement; a session
        whose queue has an entry past its cursor catches up. This bounds the one way a
        wake-up can go missing, a node that committed and died (or lost its connection)
        before its NOTIFY went out (storage/store.py): the entry is found by the next
        sweep (docs/SCALING.md). StorageError if the heads cannot be read."""
        for user, head in self._store.node.heads_of(list(self._online)).items():
            session = self._online[user]
            if head > session.cursor:
                self._catch_up(session)

    def _read_ahead(self, due: list[Session]) -> dict[str, Page]:
        """Shared: the pages of several sessions due a read, in one statement (a node's
        woken sessions); {} if there is one only, or if that fails (each is then read
        alone, and fails alone)."""
        if not self._shared or len(due) < 2:
            return {}
        try:
            return self._store.queue.pages(
                {s.user: s.cursor for s in due if s.user is not None}, DRAIN_PAGE)
        except StorageError:
            return {}

    def wants_top_up(self) -> bool:
        """Whether a session catching up has room for more of its queue."""
        return (any(s.link.backlog < self._low_water for s in self._catching_up)
                and not self._paused())

    def _paused(self) -> bool:
        return bool(self._paused_until) and time.monotonic() < self._paused_until

    def top_up(self) -> None:
        """Send more of the queue to sessions catching up (outside a batch).

        Frames are added only while the backlog is under the low-water mark, so
        it never passes that mark by more than one frame: a long queue cannot
        trip the output cap, however small the cap.
        """
        if self._paused():
            return
        due = [session for session in self._catching_up
               if session.link.backlog < self._low_water and session.user is not None]
        read = self._read_ahead(due)
        for session in due:
            if session.user is None:
                continue  # logged out by an earlier one's failure
            try:
                page = read.get(session.user) or self._store.queue.page(
                    session.user, session.cursor, DRAIN_PAGE)
            except Reported:
                # the runner said it (connection lost, lock): every session waits, still
                # catching up (the others' nodes may have woken them), and reads again later
                self._paused_until = time.monotonic() + READ_AGAIN
                return
            except StorageError as exc:
                log.error("cannot read the queue of %s, closing its connection: %s",
                          session.user, exc)
                session.link.close_when_flushed()
                self.log_out(session)
                continue
            sent = 0
            for queued in page.entries:
                if session.link.backlog >= self._low_water:
                    break  # the rest of the page is fetched again next time
                session.link.write(queued.frame, None if queued.is_message else queued.entry)
                session.cursor = queued.entry
                sent += 1
            if sent == len(page.entries) < DRAIN_PAGE:  # the whole queue is out: live now
                session.cursor = max(session.cursor, page.through)
                session.catching_up = False
                self._catching_up.discard(session)
