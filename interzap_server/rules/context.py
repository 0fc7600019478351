"""What a chat rule is handed: the frame's unit, and the context of the batch it is in.

A rule (accounts.py, messages.py, groups.py, reads.py, blocks.py) asks the store and
writes to it, and says what to send through the context: reply() to the
frame's own connection, owe() to users by way of their queues, tell() to users
online, for a frame that is never stored. Nothing it says
leaves before the batch commits (service.py).

Knows sessions and the store's plain API; knows no sockets, no SQL and nothing
of the transaction.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from interzap_server.rules.throttle import Throttle
from interzap_server.sessions import Link, Session, Sessions
from interzap_server.storage import Key, Store
from shared import events as ev
from shared.codec import encode
from shared.errors import RemoteProtocolError

KEY_MEMORY = 7 * 24 * 3600
"""Seconds a message key is remembered, so that a retransmission is recognised (5.2), and
a 31 knows the message it refers to (5.11)."""


Send = tuple[str | None, int, bytes, bool]
"""A frame a unit sends once its batch commits, (to, entry, frame, report): to the unit's
own connection if `to` is None; else the queue entry `entry` owed to the user `to`, sent
at once if they are here to take it (`report`: its reading is confirmed by a 15, not by
a 12). Plain tuples: a batch holds two or three per message until its commit."""


@dataclass(eq=False, slots=True)
class Unit:
    """One handled frame and what it causes once the batch commits."""

    session: Session
    line: bytes  # the frame without its LF, as received; b"" for a line that was no frame
    silent: bool = False  # a failure goes unanswered (a 12, an 08)
    sends: list[Send] = field(default_factory=list)  # in order
    effects: tuple[Callable[[], None], ...] = ()  # anything else, after the sends (rare)
    undo: Callable[[], None] | None = None  # if the batch fails
    wrote: bool = False

    def answer_only(self, frame: bytes | None) -> None:
        """Drop whatever the unit would have sent or done; send `frame` (if any) instead."""
        self.sends = [] if frame is None else [(None, 0, frame, False)]
        self.effects = ()

    def refuse(self, refusal: RemoteProtocolError) -> None:
        """The frame's answer is its refusal (a 13 of the rules); it wrote nothing."""
        self.wrote = False
        self.answer_only(encode(ev.Error(refusal.code, refusal.reason)))

    @property
    def user(self) -> str:
        """Who sent the frame (only rules for logged-in connections ask)."""
        user = self.session.user
        assert user is not None  # the table lets only 01, 03, 14 and 15 come before login
        return user


def _nobody(link: Link) -> None:
    """No one is told (a service without a loop: tests, benchmarks)."""


@dataclass(eq=False, slots=True)
class Context:
    """The store, the sessions and the batch's time, shared by every rule."""

    store: Store
    sessions: Sessions
    max_queue: int  # frames owed to one user before 05s to it are refused (13/14)
    now: int = 0  # the batch's time, Unix seconds
    typists: Throttle = field(default_factory=Throttle)  # the last 27 relayed per sender, chat
    moves: list[tuple[str, bool]] = field(default_factory=list)  # logins (True), departures
    registration: str = "open"  # --registration: open, invite or closed (accounts.py)
    on_failed_login: Callable[[Link], None] = _nobody  # told of each 03 refused 13/04

    def reply(self, unit: Unit, frame: bytes) -> None:
        """Send `frame` to the unit's own connection once the batch commits."""
        unit.sends.append((None, 0, frame, False))

    def owe(self, unit: Unit, recipients: Sequence[str], frame: bytes,
            message: Key | None = None) -> None:
        """Queue `frame` for each recipient; send it after the commit to those online."""
        store, report = self.store, message is None
        for recipient in recipients:
            entry = store.enqueue(recipient, frame, message)  # the other nodes are told
            unit.sends.append((recipient, entry, frame, report))

    def tell(self, user: str, frame: bytes, about: str | None = None) -> None:
        """Send an ephemeral frame (27, 30) to `user` if online, now: never stored, never
        queued, lost if they are not connected; a 30 `about` someone only to a connection
        that asked about them (29). Every ephemeral frame leaves through here."""
        self.sessions.tell(user, frame, about)
