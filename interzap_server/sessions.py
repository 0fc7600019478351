"""Who is connected, who is logged in where, and how queued frames reach them.

Knows links (anything that takes bytes) and the store's queue; knows no chat
rules, no sockets and no SQL.

Theory of operation: every frame owed to a user (06, 07, 09, 11) is a queue
entry first. A session sends entries in queue order and keeps a cursor, the
newest entry sent on its connection, so no entry goes twice down one
connection. After login it "catches up": top_up() pages through the queue while
the connection's backlog is small, and live frames wait in the queue behind;
once the queue is exhausted, send_live() sends entries as they are made.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from interzap_server.storage import Reported, StorageError, Store
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

log = logging.getLogger(__name__)

DRAIN_PAGE = 256
"""Queue entries fetched at a time for a session that is catching up."""
LOW_WATER = 64 * 1024
"""Send more of the queue only while less than this many bytes wait to be sent."""


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
    since: int = 0  # when it logged in (the batch's time, Unix seconds)


class Sessions:
    """Every connection's session, and the one session of each logged-in user."""

    def __init__(self, store: Store, low_water: int = LOW_WATER) -> None:
        self._store = store
        self._low_water = low_water  # stays well below the output cap: see top_up()
        self._by_link: dict[Link, Session] = {}
        self._online: dict[str, Session] = {}
        self._catching_up: set[Session] = set()

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
        """Make `session` the user's one session (since `now`); an older one is told (13/12)
        and closed."""
        self.close_user(user, ErrorCode.REPLACED, "you logged in from another connection")
        session.user = user
        session.since = now
        session.cursor = 0
        session.catching_up = True
        self._catching_up.add(session)
        self._online[user] = session

    def close_user(self, user: str, code: ErrorCode, reason: str,
                   since_at_most: int | None = None) -> bool:
        """Tell the user's live session why (a 13) and close it; False if not online (or,
        with `since_at_most`, if it logged in later than that)."""
        session = self._online.get(user)
        if session is None or (since_at_most is not None and session.since > since_at_most):
            return False
        session.link.write(encode(ev.Error(code, reason)))
        session.link.close_when_flushed()
        session.retired = True
        self.log_out(session)
        return True

    def log_out(self, session: Session) -> None:
        if session.user is not None and self._online.get(session.user) is session:
            del self._online[session.user]
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
        session.link.write(frame, entry if report else None)
        session.cursor = entry

    def wants_top_up(self) -> bool:
        """Whether a session catching up has room for more of its queue."""
        return any(s.link.backlog < self._low_water for s in self._catching_up)

    def top_up(self) -> None:
        """Send more of the queue to sessions catching up (outside a batch).

        Frames are added only while the backlog is under the low-water mark, so
        it never passes that mark by more than one frame: a long queue cannot
        trip the output cap, however small the cap.
        """
        for session in list(self._catching_up):
            if session.link.backlog >= self._low_water or session.user is None:
                continue
            try:
                page = self._store.queued(session.user, session.cursor, DRAIN_PAGE)
            except StorageError as exc:
                # a failure the runner already logged (connection lost, lock) is not
                # said again per session; the client reconnects and catches up later
                log.log(logging.INFO if isinstance(exc, Reported) else logging.ERROR,
                        "cannot read the queue of %s, closing its connection: %s",
                        session.user, exc)
                session.link.close_when_flushed()
                self.log_out(session)
                continue
            sent = 0
            for queued in page:
                if session.link.backlog >= self._low_water:
                    break  # the rest of the page is fetched again next time
                session.link.write(queued.frame, None if queued.is_message else queued.entry)
                session.cursor = queued.entry
                sent += 1
            if sent == len(page) < DRAIN_PAGE:  # the whole queue is out: live from now on
                session.catching_up = False
                self._catching_up.discard(session)
