"""Typed lines to actions: `/send bob hi` -> Send("bob", "hi"); a line without `/` -> Say.

Parsing only: names (ids or aliases) are resolved later by the session, which
knows the contacts. Also the command table used by /help and by tab
completion. Refuses to know about the network, files and the user interface.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.codes import MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS
from shared.ids import is_group_id, is_user_id


class CommandError(ValueError):
    """A line that is not a valid command; the message says how to write it."""


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
    pass


@dataclass(frozen=True, slots=True)
class Login:
    ident: str
    token: str | None


@dataclass(frozen=True, slots=True)
class ReadUp:
    """/read [PEER]: send 08 for everything shown (PEER None: the open conversation)."""

    peer: str | None


@dataclass(frozen=True, slots=True)
class WaitTick:
    """/wait accepted|delivered|read [PEER]."""

    tick: str
    peer: str | None


@dataclass(frozen=True, slots=True)
class WaitReceived:
    count: int


Action = (
    Say | Send | Add | Open | Group | Contacts | Export | Help | Quit | Register | Login
    | ReadUp | WaitTick | WaitReceived
)

COMMANDS: dict[str, str] = {
    "/add": "/add ID [ALIAS]      add a contact, with a local alias",
    "/open": "/open ID|ALIAS       open a conversation (and mark it read)",
    "/group": "/group ID|ALIAS ...  create a group with 1 to 8 others (you are added)",
    "/contacts": "/contacts            list contacts and groups",
    "/export": "/export FILE         write the history in the original's backup format",
    "/help": "/help                this list",
    "/quit": "/quit                leave (Ctrl-C too)",
    "/register": "/register            create a new account",
    "/login": "/login ID [TOKEN]    log in (the token is taken from the data dir if stored)",
    "/send": "/send PEER TEXT      send TEXT to a contact or group",
    "/read": "/read [PEER]         mark everything shown as read",
    "/wait": "/wait accepted|delivered|read [PEER]  or  /wait received N   (scripts)",
}
"""Command -> usage line; the order is the order of /help."""
TICK_NAMES = ("accepted", "delivered", "read")
MAX_ALIAS = 32


def check_alias(alias: str) -> str:
    """An alias is one word that cannot be mistaken for an id or a command."""
    if is_user_id(alias) or is_group_id(alias):
        raise CommandError("an alias cannot look like an id")
    if alias.startswith(("/", "#")) or len(alias) > MAX_ALIAS or not alias.isprintable():
        raise CommandError(f"an alias is one word of at most {MAX_ALIAS} characters, "
                           "not starting with / or #")
    return alias


def _usage(command: str) -> CommandError:
    return CommandError("usage: " + COMMANDS[command].split("  ")[0].strip())


def parse(line: str) -> Action | None:
    """The action a typed line asks for; None for a blank line; CommandError if invalid."""
    if not line.strip():
        return None
    if not line.startswith("/"):
        return Say(line)
    command, _, rest = line.partition(" ")
    words = rest.split()
    if command not in COMMANDS:
        raise CommandError(f"unknown command {command}; /help lists them")
    if command == "/send":
        peer, _, text = rest.lstrip(" ").partition(" ")
        if not peer or not text:
            raise _usage(command)
        return Send(peer, text)
    if command == "/add" and len(words) in (1, 2):
        alias = check_alias(words[1]) if len(words) == 2 else None
        return Add(words[0], alias)
    if command == "/open" and len(words) == 1:
        return Open(words[0])
    if command == "/group":
        if not MIN_GROUP_MEMBERS <= len(words) <= MAX_GROUP_MEMBERS:
            raise CommandError(f"a group has {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} "
                               "other members; " + str(_usage(command)))
        return Group(tuple(words))
    if command == "/export" and rest.strip():
        return Export(rest.strip())
    if command == "/login" and len(words) in (1, 2):
        return Login(words[0], words[1] if len(words) == 2 else None)
    if command == "/read" and len(words) <= 1:
        return ReadUp(words[0] if words else None)
    if command == "/wait":
        return _parse_wait(words)
    simple = {"/contacts": Contacts, "/help": Help, "/quit": Quit, "/register": Register}
    if command in simple and not words:
        return simple[command]()
    raise _usage(command)


def _parse_wait(words: list[str]) -> Action:
    if len(words) == 2 and words[0] == "received":
        if not words[1].isdigit():
            raise CommandError("usage: /wait received N (a number)")
        return WaitReceived(int(words[1]))
    if words and words[0] in TICK_NAMES and len(words) <= 2:
        return WaitTick(words[0], words[1] if len(words) == 2 else None)
    raise _usage("/wait")


def complete(line: str, names: list[str]) -> list[str]:
    """Completions for the word being typed at the end of `line`.

    The first word completes to a command; later words to `names` (ids and
    aliases), except for /send's text and /export's file name.
    """
    if not line.startswith("/"):
        return []
    words = line.split(" ")
    current = words[-1]
    if len(words) == 1:
        return [c for c in COMMANDS if c.startswith(current)]
    command = words[0]
    if command == "/wait" and len(words) == 2:
        return [w for w in (*TICK_NAMES, "received") if w.startswith(current)]
    takes_names = {"/add": 2, "/open": 2, "/login": 2, "/read": 2, "/send": 2, "/wait": 3}
    if command == "/group" or len(words) == takes_names.get(command):
        return [n for n in names if n.startswith(current) and n != current]
    return []
