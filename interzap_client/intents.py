"""What a typed line asks for: one frozen dataclass per command, and Action, their union.

Built by commands.py from a parsed line, carried out by actions.py on a Session:
the one vocabulary both sides share. Names in them (ids or aliases) are as
typed, not yet resolved. Refuses to know how a line is written (commands.py),
what the session does with them, and anything of the network, files or UI.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.codes import ActKind


@dataclass(frozen=True, slots=True)
class Say:
    """A line without `/`: a message to the open conversation."""

    text: str


@dataclass(frozen=True, slots=True)
class Send:
    peer: str
    text: str


@dataclass(frozen=True, slots=True)
class Add:
    ident: str
    alias: str | None


@dataclass(frozen=True, slots=True)
class Open:
    peer: str


@dataclass(frozen=True, slots=True)
class Group:
    members: tuple[str, ...]
    name: str | None = None  # /group NAME: members


@dataclass(frozen=True, slots=True)
class Contacts:
    pass


@dataclass(frozen=True, slots=True)
class Export:
    path: str


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class Register:
    """/register [CODE]: a new account (CODE: an invite from the server's operator)."""

    code: str | None = None


@dataclass(frozen=True, slots=True)
class Login:
    ident: str | None  # None: the account in use (after being signed out)
    token: str | None


@dataclass(frozen=True, slots=True)
class ReadUp:
    """/read [PEER]: send 08 for everything received (PEER None: the open conversation)."""

    peer: str | None


@dataclass(frozen=True, slots=True)
class WaitTick:
    """/wait accepted|delivered|read [PEER]."""

    tick: str
    peer: str | None


@dataclass(frozen=True, slots=True)
class WaitReceived:
    count: int


@dataclass(frozen=True, slots=True)
class Block:
    """/block PEER (on) or /unblock PEER (off)."""

    peer: str
    on: bool


@dataclass(frozen=True, slots=True)
class Blocked:
    """/blocked: list whom you block."""


@dataclass(frozen=True, slots=True)
class ActOn:
    """/reply, /edit [REF] TEXT, /delete [REF], /react [REF] EMOJI: a 31 of this kind about
    the message REF names (None: the selected one, else the newest that suits the kind)."""

    kind: ActKind
    ref: str | None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Reactions:
    """/reactions [REF]: who reacted; ref None: the selected message, else the last with any."""

    ref: str | None


@dataclass(frozen=True, slots=True)
class SetName:
    """/name NAME: my display name."""

    name: str


@dataclass(frozen=True, slots=True)
class Whois:
    """/whois NAME|ID: who has that name, or what that id is called."""

    query: str


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """/rename, /invite, /remove, /promote, /demote, /leave: a 23 (op: GroupOp) to the open
    group (or `group`); arg: a name (rename), a person (others), None (leave)."""

    op: str
    arg: str | None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Members:
    """/members [GROUP]: the members of the open group (or GROUP), with names and admins."""

    group: str | None


@dataclass(frozen=True, slots=True)
class Search:
    """/search [-here] WORDS: messages holding every word (here: in the open chat only)."""

    words: str
    here: bool


@dataclass(frozen=True, slots=True)
class Info:
    """/info [N]: who got and read your Nth last message in the open group (1: the last)."""

    nth: int


@dataclass(frozen=True, slots=True)
class Typing:
    """/typing [PEER]: tell PEER (None: the open chat) you are typing."""

    peer: str | None


@dataclass(frozen=True, slots=True)
class Privacy:
    """/privacy lastseen on|off: share (off: hide) your last seen and online."""

    hidden: bool


@dataclass(frozen=True, slots=True)
class PresenceOf:
    """/presence PEER: is PEER online, or when last seen?"""

    peer: str


Action = (
    Say | Send | Add | Open | Group | Contacts | Export | Help | Quit | Register | Login
    | ReadUp | WaitTick | WaitReceived | Block | Blocked | SetName | Whois | ChangeGroup
    | Members | ActOn | Reactions | Search | Info | Typing | Privacy | PresenceOf
)
