"""Telling the other server nodes on the same database that a user is owed something.

On SQLite there is nobody to tell: one process serves the file (storage/solo.py
refuses a second), and it sends a new entry itself (sessions.py), so Wakeups
does nothing and there is nothing to listen to.

On PostgreSQL (Notifications) every node of a cluster gathers, during the
batch, what it made: the new entries of each user (a wake-up), and the
ephemeral frames and session replacements that are for users it does not hold.
All of it leaves as NOTIFY on one channel, in one statement of its own right
after the batch's COMMIT (Store.commit), so it is said only if, and after, the
batch commits: a node that reads a woken user's queue finds the entries there.
A node that dies between the two leaves entries nobody was told of: the sweep
(Sessions.sweep, once a second) finds them. Each
node keeps one more connection, in autocommit, that LISTENs on that channel;
the loop watches its socket (fileno()) and drain() turns what arrived into
plain data (Heard). One channel rather than one per user: every listening
backend examines every notification anyway, and a per-user channel would cost
a LISTEN and an UNLISTEN per login and a list of thousands of channels that
PostgreSQL searches for each notification; here a node drops what is not for
its users with a dict lookup (docs/SCALING.md).

If the listening connection is lost, what was notified meanwhile is lost with
it: drain() says so once (logged), the loop stops watching, and once the
backoff allows, drain() connects and LISTENs again and hears Resync: read the
queue of everyone connected, from their cursors. LISTEN comes before those
reads, so an entry committed after them is notified and one committed before
them is read: no wake-up is lost.

Payloads, one line of text each (at most PAYLOAD bytes), `origin` a random
token per process, so that a node skips what it said itself:
    w ORIGIN USER:SEQ USER:SEQ ...   entries up to SEQ were made in USER's queue
    f ORIGIN USER FRAME              an ephemeral frame for USER (LF stripped)
    r ORIGIN USER TIME               USER logged in at TIME: replace older sessions

Knows user numbers, seqs, psycopg2's notifications and this channel's SQL;
knows no sessions and no chat rules.
"""

import logging
import secrets
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from interzap_server.storage.failures import DRIVER_ERRORS, reason
from interzap_server.storage.numbers import SEQ_SPAN
from shared.ids import user_id

log = logging.getLogger(__name__)

CHANNEL = "interzap"
"""The one channel every node of a database notifies and listens on."""
PAYLOAD = 7900
"""Bytes of one notification's payload at most (PostgreSQL's limit is 8000)."""
NOBODY = "-"
"""In an `f` payload, where a frame is about no one in particular."""
RETRY_FIRST = 0.05
"""Seconds from losing the listening connection to the first try to connect it again."""
RETRY_MOST = 2.0
"""The longest wait between two tries."""


@dataclass(frozen=True, slots=True)
class Wake:
    """Entries up to `entry` were committed in `user`'s queue by another node."""

    user: str
    entry: int


@dataclass(frozen=True, slots=True)
class Told:
    """An ephemeral frame (LF included) for `user`, wherever they are connected."""

    user: str
    frame: bytes
    about: str | None = None  # a 30's subject: only to a connection that asked (29)


@dataclass(frozen=True, slots=True)
class Replaced:
    """`user` logged in on another node at `at` (Unix time): a session of theirs that
    logged in before that is replaced (13/12); `origin` breaks a tie."""

    user: str
    at: float
    origin: str


@dataclass(frozen=True, slots=True)
class Resync:
    """Wake-ups may have been lost (the listening connection was): read every queue."""


Heard = Wake | Told | Replaced | Resync


class Wakeups:
    """The SQLite case: nothing to send, nothing to listen to."""

    origin = ""

    def notify(self, user: int, seq: int) -> None:
        """`user`'s queue got the entry `seq` in this transaction."""

    def tell(self, user: str, frame: bytes, about: str | None = None) -> None:
        """Send an ephemeral frame to `user` on whichever node holds them (at the commit);
        `about`: a 30's subject, for the connections that asked about them only."""

    def replace(self, user: str, at: float) -> None:
        """`user` logged in here at `at`: other nodes close their older sessions."""

    def take(self) -> list[str]:
        """The payloads this transaction says, to NOTIFY after its COMMIT; forgotten."""
        return []

    def clear(self) -> None:
        """The transaction rolled back: say nothing of it."""

    def fileno(self) -> int | None:
        """The listening connection's socket for the loop to watch; None: none now."""
        return None

    def retry_in(self) -> float | None:
        """Seconds until drain() may connect the lost listening connection again."""
        return None

    def drain(self) -> list[Heard]:
        """What other nodes said since the last call (or Resync after connecting again)."""
        return []

    def close(self) -> None:
        """Close the listening connection, if any."""


class Notifications(Wakeups):
    """PostgreSQL: NOTIFY what a batch made, LISTEN for what the other nodes made."""

    def __init__(self, connect: Callable[[], Any], clock: Callable[[], float] = time.monotonic,
                 ) -> None:
        """`connect()` returns a new psycopg2 connection in autocommit mode."""
        self.origin = secrets.token_hex(4)
        self._connect = connect
        self._clock = clock
        self._woken: dict[int, int] = {}  # user -> the highest seq made in this transaction
        self._said: list[str] = []
        self._connection: Any = None
        self._wait = RETRY_FIRST
        self._next_try = 0.0
        self._since: float | None = None  # when the connection was lost
        self._listen()

    # -- what a transaction says ---------------------------------------------------------

    def notify(self, user: int, seq: int) -> None:
        if seq > self._woken.get(user, 0):
            self._woken[user] = seq

    def tell(self, user: str, frame: bytes, about: str | None = None) -> None:
        text = frame.decode("utf-8").rstrip("\n")
        self._said.append(f"f {self.origin} {user} {about or NOBODY} {text}")

    def replace(self, user: str, at: float) -> None:
        self._said.append(f"r {self.origin} {user} {at!r}")

    def take(self) -> list[str]:
        said, self._said = self._said, []
        if self._woken:
            head = f"w {self.origin}"
            line = head
            for user, seq in self._woken.items():
                pair = f" {user}:{seq}"
                if len(line) + len(pair) > PAYLOAD:
                    said.append(line)
                    line = head
                line += pair
            said.append(line)
            self._woken.clear()
        return said

    def clear(self) -> None:
        self._woken.clear()
        self._said.clear()

    # -- listening -----------------------------------------------------------------------

    def fileno(self) -> int | None:
        return None if self._connection is None else int(self._connection.fileno())

    def retry_in(self) -> float | None:
        if self._connection is not None:
            return None
        return max(0.0, self._next_try - self._clock())

    def drain(self) -> list[Heard]:
        if self._connection is None:
            if self._clock() < self._next_try or not self._listen():
                return []
            return [Resync()]
        try:
            self._connection.poll()
        except DRIVER_ERRORS as exc:  # the connection is gone
            self._lose(exc)
            return []
        notes = list(self._connection.notifies)
        del self._connection.notifies[:]
        heard: list[Heard] = []
        for note in notes:
            heard += self._parse(note.payload)
        return heard

    def _parse(self, payload: str) -> list[Heard]:
        kind, origin, rest = [*payload.split(" ", 2), "", ""][:3]
        if origin == self.origin:
            return []  # said by this node, which acted on it itself
        try:
            if kind == "w":
                return [_wake(pair) for pair in rest.split()]
            user, _, data = rest.partition(" ")
            if kind == "f":
                about, _, frame = data.partition(" ")
                return [Told(user, frame.encode("utf-8") + b"\n",
                             None if about == NOBODY else about)]
            if kind == "r":
                return [Replaced(user, float(data), origin)]
        except ValueError:
            pass
        log.warning("ignored a notification not understood: %.80r", payload)
        return []

    def _listen(self) -> bool:
        """Connect and LISTEN; False (and the next try scheduled) if that fails."""
        connection = None
        try:
            connection = self._connect()
            connection.cursor().execute(f"LISTEN {CHANNEL}")
        except DRIVER_ERRORS as exc:  # the database is away
            if connection is not None:
                with suppress(*DRIVER_ERRORS):
                    connection.close()
            if self._since is None:
                raise  # at start: the store cannot open
            self._wait = min(self._wait * 2, RETRY_MOST)
            self._next_try = self._clock() + self._wait
            log.debug("listening again failed (%s); next try in %g s", exc, self._wait)
            return False
        self._connection = connection
        if self._since is not None:
            log.warning("listening to the other nodes again, %.2f s after the connection was "
                        "lost; reading every connected user's queue", self._clock() - self._since)
        self._since, self._wait = None, RETRY_FIRST
        return True

    def _lose(self, exc: Exception) -> None:
        log.error("lost the connection that hears the other nodes (%s); listening again in "
                  "%g s, then reading every connected user's queue", reason(exc), self._wait)
        self.close()
        self._since = self._clock()
        self._next_try = self._since + self._wait

    def close(self) -> None:
        if self._connection is not None:
            with suppress(*DRIVER_ERRORS):  # already broken: nothing left to close
                self._connection.close()
            self._connection = None


def _wake(pair: str) -> Wake:
    user, _, seq = pair.partition(":")
    number = int(user)
    return Wake(user_id(number), number * SEQ_SPAN + int(seq))
