"""The session's lifecycle as named phases, and the one table of steps between them.

After h11's `_state.py`: the phase is a value of an Enum, every change is a
Step looked up in TRANSITIONS, and a step the table does not list is refused
with an error that says whose fault it is. A step we take ourselves (dialling,
sending 01/03, closing) that the table refuses is a bug in the client
(LocalStateError); a step forced by a frame from the server (02/04, a 13) is
the server's fault (RemoteStateError), reported and otherwise ignored.

Theory of operation. Nothing is dialled until there is something to say (a
/login or /register): IDLE. The first dial is CONNECTING; once the link is up
(CONNECTED) the 01 or 03 goes out at once (HELLO_SENT), and its 02/04 makes
the session LOGGED_IN. A dropped link goes to RECONNECTING (the connection
dials again by itself) and from there back to CONNECTED, which says hello
again. A refusal for good (13/04, a refused 01) returns to IDLE: no more
dialling until the next /login or /register. 13/12 (the account logged in on
another device) makes it SIGNED_OUT: no dialling either, since a reconnect
would take the account back from that device, until a /login does so on
purpose. CLOSED is final, and takes in whatever late callbacks the dying
connection still makes.

Refuses to know about sockets, frames, asyncio, accounts and the screen: it
only says which step is legal in which phase, and the word the UI shows.
"""

from __future__ import annotations

from enum import Enum


class Phase(Enum):
    """Where one session is in its life; exactly one at a time."""

    IDLE = "idle"
    """No link, and none wanted: before the first /login or /register, or after giving up."""
    CONNECTING = "connecting"
    """Dialling the server for the first time since IDLE (connect failures back off)."""
    CONNECTED = "connected"
    """The link is up and no 01/03 waits for an answer (it was refused for a passing reason)."""
    HELLO_SENT = "hello sent"
    """01 or 03 sent; its 02/04 or 13 is awaited."""
    LOGGED_IN = "logged in"
    """02/04 received: messages flow, the outbox drains."""
    RECONNECTING = "reconnecting"
    """The link dropped; the connection dials again with backoff, then says hello again."""
    SIGNED_OUT = "signed out"
    """13/12: the account logged in on another device; no dialling until a /login."""
    CLOSED = "closed"
    """close() was called: final."""


class Step(Enum):
    """What can happen to a session; each one is a key of TRANSITIONS with a phase."""

    DIAL = "dial"
    """There is something to say: start (re)connecting."""
    UP = "up"
    """The connection is up."""
    HELLO = "hello"
    """We sent 01 or 03."""
    WELCOME = "welcome"
    """02 or 04 answered it."""
    REFUSED = "refused"
    """A 13 answered it for a passing reason (13/10, 13/99): hello again on the next link."""
    GIVE_UP = "give up"
    """A 13 answered it for good (13/04 to a 03, any 13 to a 01): stop dialling."""
    REPLACED = "replaced"
    """13/12: the account logged in on another connection; the server closes this one."""
    DOWN = "down"
    """The link dropped (or we closed it)."""
    CLOSE = "close"
    """close(): the user leaves."""


TRANSITIONS: dict[tuple[Phase, Step], Phase] = {
    (Phase.IDLE, Step.DIAL): Phase.CONNECTING,
    (Phase.IDLE, Step.DOWN): Phase.IDLE,  # the link we gave up on (GIVE_UP) closing
    (Phase.CONNECTING, Step.UP): Phase.CONNECTED,
    (Phase.RECONNECTING, Step.UP): Phase.CONNECTED,
    (Phase.CONNECTED, Step.HELLO): Phase.HELLO_SENT,
    (Phase.CONNECTED, Step.DOWN): Phase.RECONNECTING,
    (Phase.HELLO_SENT, Step.WELCOME): Phase.LOGGED_IN,
    (Phase.HELLO_SENT, Step.REFUSED): Phase.CONNECTED,
    (Phase.HELLO_SENT, Step.GIVE_UP): Phase.IDLE,
    (Phase.HELLO_SENT, Step.DOWN): Phase.RECONNECTING,
    (Phase.LOGGED_IN, Step.REPLACED): Phase.SIGNED_OUT,
    (Phase.LOGGED_IN, Step.DOWN): Phase.RECONNECTING,
    (Phase.SIGNED_OUT, Step.DOWN): Phase.SIGNED_OUT,  # the server closes the replaced link
    (Phase.SIGNED_OUT, Step.DIAL): Phase.CONNECTING,  # /login takes the account back
    **{(phase, Step.CLOSE): Phase.CLOSED for phase in Phase},
    **{(Phase.CLOSED, step): Phase.CLOSED for step in Step},  # the dying link's late callbacks
}
"""(phase, step) -> the next phase; a pair missing here is an illegal step."""

STATUS_WORDS: dict[Phase, str] = {
    Phase.IDLE: "offline",
    Phase.CONNECTING: "connecting",
    Phase.CONNECTED: "connected",
    Phase.HELLO_SENT: "connected",
    Phase.LOGGED_IN: "connected",
    Phase.RECONNECTING: "reconnecting",
    Phase.SIGNED_OUT: "signed out",
    Phase.CLOSED: "offline",
}
"""The word the status bar shows for each phase: offline | connecting | connected |
reconnecting | signed out."""


class StateError(Exception):
    """A step the transition table does not allow in the current phase."""

    def __init__(self, phase: Phase, step: Step) -> None:
        super().__init__(f"{step.value!r} is not possible while {phase.value}")
        self.phase = phase
        self.step = step


class LocalStateError(StateError):
    """A step of our own that the table refuses: a bug in the client."""


class RemoteStateError(StateError):
    """A frame from the server that makes no sense now (an 04 nobody asked for): its bug."""


def advance(phase: Phase, step: Step, *, theirs: bool = False) -> Phase:
    """The phase after `step`; `theirs`: forced by a frame from the server."""
    try:
        return TRANSITIONS[phase, step]
    except KeyError:
        raise (RemoteStateError if theirs else LocalStateError)(phase, step) from None
