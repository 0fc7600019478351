"""Telling the other server nodes on the same database that a user is owed something.

On SQLite there is nobody to tell: one process serves the file (storage/solo.py
refuses a second), and it sends a new entry itself (sessions.py), so Wakeups
does nothing and there is nothing to listen to.

On PostgreSQL (Notifications) every node of a cluster gathers, during the
batch, what it made: the new entries of each user (a wake-up), and the
ephemeral frames and session replacements that are for users it does not hold.
All of it leaves as NOTIFY on one channel, in one statement right after the
batch's COMMIT, outside its transaction but in its round trip (Store.commit),
so it is said only if, and after, the batch commits: a node that reads a woken
user's queue finds the entries there.
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
    c ORIGIN USER SEQ KEY FRAME      the entry SEQ made in USER's queue: FRAME (LF
                                     stripped), KEY its message's DST:SRC:TS or `-`
    f ORIGIN USER ABOUT FRAME        an ephemeral frame for USER (LF stripped)
    r ORIGIN USER TIME               USER logged in at TIME: replace older sessions
A field before FRAME holds no space and FRAME holds no LF, so FRAME is the rest of
the line, spaces and all.

The carried entry (`c`) spares the woken node its read of the queue when the
entry is the session's next (sessions.py); it is said for a user given few
entries (CARRIED at most) by the batch, each in a payload of its own, and
always before the `w` that names it: the `w` is said as before, so a node that
cannot use the entry (or a node of the code before, which logs a `c` as not
understood) reads the queue as it always did. What the batch made and did not
commit is not carried: an entry dropped when its key turned out known (a
retransmission: writes.py `voided`), or undone with its frame (undone()).

Knows user numbers, seqs, psycopg2's notifications and this channel's SQL;
knows no sessions and no chat rules.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interzap_server.storage.failures import DRIVER_ERRORS, reason
from interzap_server.storage.numbers import SEQ_SPAN
from shared.ids import user_id

if TYPE_CHECKING:  # writes.py needs statements.py, which needs CHANNEL from here
    from interzap_server.storage.writes import Key, Place

log = logging.getLogger(__name__)

CHANNEL = "interzap"
"""The one channel every node of a database notifies and listens on."""
PAYLOAD = 7900
"""Bytes of one notification's payload at most (PostgreSQL's limit is 8000)."""
NOBODY = "-"
"""In an `f` payload, where a frame is about no one in particular; in a `c` payload, where
an entry is of no message (a 07, 09, 11...)."""
CARRIED = 4
"""Entries of one user a batch may make and still carry in its wake-up; beyond, one read
of the queue is cheaper than the payloads."""
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
class Carried:
    """Another node committed the entry `entry` of `user`'s queue: `frame` (LF included),
    a 06 of the message `message` (dst, src, ts), or no message's (None)."""

    user: str
    entry: int
    frame: bytes
    message: Key | None


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


Heard = Wake | Carried | Told | Replaced | Resync
Made = tuple[int, int, str, "Key | None"]
"""An entry a transaction made: (user, seq, frame, its message's key or None)."""


class Wakeups:
    """The SQLite case: nothing to send, nothing to listen to."""

    origin = ""

    def notify(self, user: int, seq: int, frame: str, message: Key | None) -> None:
        """`user`'s queue got the entry `seq` in this transaction: `frame` (LF included), a
        06 of `message` or of none."""

    def tell(self, user: str, frame: bytes, about: str | None = None) -> None:
        """Send an ephemeral frame to `user` on whichever node holds them (at the commit);
        `about`: a 30's subject, for the connections that asked about them only."""

    def replace(self, user: str, at: float) -> None:
        """`user` logged in here at `at`: other nodes close their older sessions."""

    def take(self, voided: Collection[Place] = ()) -> list[str]:
        """The payloads this transaction says, to NOTIFY after its COMMIT; forgotten.
        `voided`: its entries that were not written (writes.py), carried by none."""
        return []

    def clear(self) -> None:
        """The transaction rolled back: say nothing of it."""

    def savepoint(self) -> None:
        """What comes from now on may be undone alone (Store.savepoint)."""

    def undone(self) -> None:
        """What came since savepoint() was undone: carry none of its entries (their seqs
        stay gaps, which a plain wake-up may still name)."""

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
        self._made: list[Made] = []  # the entries made in this transaction, to carry
        self._kept = 0  # how many of them came before the frame's savepoint
        self._said: list[str] = []
        self._connection: Any = None
        self._wait = RETRY_FIRST
        self._next_try = 0.0
        self._since: float | None = None  # when the connection was lost
        self._listen()

    # -- what a transaction says ---------------------------------------------------------

    def notify(self, user: int, seq: int, frame: str, message: Key | None) -> None:
        if seq > self._woken.get(user, 0):
            self._woken[user] = seq
        self._made.append((user, seq, frame, message))

    def tell(self, user: str, frame: bytes, about: str | None = None) -> None:
        text = frame.decode("utf-8").rstrip("\n")
        self._said.append(f"f {self.origin} {user} {about or NOBODY} {text}")

    def replace(self, user: str, at: float) -> None:
        self._said.append(f"r {self.origin} {user} {at!r}")

    def take(self, voided: Collection[Place] = ()) -> list[str]:
        said, self._said = self._said, []
        said += self._carry(voided)  # before the `w` that names the same entries
        self._made.clear()
        self._kept = 0
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

    def _carry(self, voided: Collection[Place]) -> list[str]:
        """The `c` payloads: each entry written for a user given CARRIED at most, if its
        payload is not too large."""
        given = Counter(user for user, *_ in self._made)
        carried = []
        for user, seq, frame, message in self._made:
            if given[user] > CARRIED or (user, seq) in voided:
                continue
            key = NOBODY if message is None else ":".join(map(str, message))
            text = frame.rstrip("\n")
            line = f"c {self.origin} {user} {seq} {key} {text}"
            if len(line.encode("utf-8")) <= PAYLOAD:
                carried.append(line)
        return carried

    def clear(self) -> None:
        self._woken.clear()
        self._made.clear()
        self._kept = 0
        self._said.clear()

    def savepoint(self) -> None:
        self._kept = len(self._made)

    def undone(self) -> None:
        del self._made[self._kept:]

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
            if kind == "c":
                return [_carried(rest)]
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


def _carried(rest: str) -> Carried:
    user, seq, key, frame = rest.split(" ", 3)
    number = int(user)
    message = None
    if key != NOBODY:
        dst, src, ts = key.split(":")
        message = (int(dst), int(src), int(ts))
    return Carried(user_id(number), number * SEQ_SPAN + int(seq), frame.encode("utf-8") + b"\n",
                   message)
