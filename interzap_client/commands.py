"""Typed lines to actions: `/send bob hi` -> Send("bob", "hi"); a line without `/` -> Say.

Parsing only: names (ids or aliases) are resolved later by the session, which
knows the contacts. One table (COMMANDS) says, per command, its arguments,
its help line and the action it builds: parse(), /help and tab completion all
read it, so they never disagree. Refuses to know about the network, files and
the user interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from shared.codes import INVITE_ALPHABET, INVITE_WIDTH, MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS
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


Action = (
    Say | Send | Add | Open | Group | Contacts | Export | Help | Quit | Register | Login
    | ReadUp | WaitTick | WaitReceived | Block | Blocked
)

TICK_NAMES = ("accepted", "delivered", "read")
MAX_ALIAS = 32


class Arg(Enum):
    """What one argument of a command is: how it is cut from the line, what completes it."""

    NAME = "name"
    """An id or an alias, one word; completes to the names the session knows."""
    WORD = "word"
    """Any other single word; no completion."""
    TICK = "tick"
    """accepted, delivered, read or received (/wait); completes to those."""
    TEXT = "text"
    """The rest of the line exactly as typed (a message); last only."""
    PATH = "path"
    """The rest of the line without the blanks around it (a file name); last only."""


_REST = (Arg.TEXT, Arg.PATH)


@dataclass(frozen=True, slots=True)
class Command:
    """One row of the command table: what /help says, what parse accepts, what it builds."""

    name: str
    usage: str  # the arguments, as /help and a usage error write them
    help: str
    build: Callable[[list[str]], Action]  # the checked arguments -> the action
    args: tuple[Arg, ...] = ()
    least: int | None = None  # fewest arguments (None: all of `args`)
    most: int | None = None  # most (None: len(args)); more than len(args): the last repeats
    note: str = ""  # says why, before the usage, when the count is wrong

    @property
    def bounds(self) -> tuple[int, int]:
        least = len(self.args) if self.least is None else self.least
        return least, len(self.args) if self.most is None else self.most

    def split(self, rest: str) -> list[str]:
        """The arguments written in `rest`, the line after the command's name."""
        if not self.args or self.args[-1] not in _REST:
            return rest.split()
        parts = rest.lstrip(" ").split(" ", len(self.args) - 1)
        if self.args[-1] is Arg.PATH:
            parts[-1] = parts[-1].strip()
        return [part for part in parts if part]

    def arg_at(self, index: int) -> Arg | None:
        """The kind of the argument at `index` (0: the first after the name), if any."""
        if index >= self.bounds[1]:
            return None
        return self.args[min(index, len(self.args) - 1)]  # past the last: it repeats

    @property
    def help_line(self) -> str:
        head = f"{self.name} {self.usage}".strip()
        return f"{head:<20} {self.help}" if len(head) < 20 else f"{head}  {self.help}"

    def usage_error(self) -> CommandError:
        usage = f"usage: {self.name} {self.usage}".rstrip()
        return CommandError(f"{self.note}; {usage}" if self.note else usage)

    def parse(self, rest: str) -> Action:
        args = self.split(rest)
        least, most = self.bounds
        if not least <= len(args) <= most:
            raise self.usage_error()
        return self.build(args)


def check_alias(alias: str) -> str:
    """An alias is one word that cannot be mistaken for an id or a command."""
    if is_user_id(alias) or is_group_id(alias):
        raise CommandError("an alias cannot look like an id")
    if alias.startswith(("/", "#")) or len(alias) > MAX_ALIAS or not alias.isprintable():
        raise CommandError(f"an alias is one word of at most {MAX_ALIAS} characters, "
                           "not starting with / or #")
    return alias


def check_invite(text: str) -> str:
    """An invite code as typed (any case, dashes or blanks between groups) as the wire
    wants it: INVITE_WIDTH characters of INVITE_ALPHABET."""
    code = text.replace("-", "").replace(" ", "").upper()
    if len(code) != INVITE_WIDTH or any(char not in INVITE_ALPHABET for char in code):
        raise CommandError(f"an invite code is {INVITE_WIDTH} letters and digits, as the "
                           "server's operator gave it (like 7KQ2-MXW9-RTB4-HJZP)")
    return code


def _register(args: list[str]) -> Action:
    return Register(None if not args else check_invite(args[0]))


def _optional(args: list[str], index: int) -> str | None:
    return args[index] if len(args) > index else None


def _add(args: list[str]) -> Action:
    alias = _optional(args, 1)
    return Add(args[0], None if alias is None else check_alias(alias))


def _wait(args: list[str]) -> Action:
    what, peer = args[0], _optional(args, 1)
    if what == "received":
        if peer is None or not peer.isdigit():
            raise CommandError("usage: /wait received N (a number)")
        return WaitReceived(int(peer))
    if what not in TICK_NAMES:
        raise COMMANDS["/wait"].usage_error()
    return WaitTick(what, peer)


_TABLE = (
    Command("/add", "ID [ALIAS]", "add a contact, with a local alias (a group can have one too)",
            _add, (Arg.NAME, Arg.WORD), least=1),
    Command("/open", "ID|ALIAS", "open a conversation (and mark it read)",
            lambda args: Open(args[0]), (Arg.NAME,)),
    Command("/group", "ID|ALIAS ...",
            f"create a group with {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} others "
            "(you are added); it opens",
            lambda args: Group(tuple(args)), (Arg.NAME,),
            least=MIN_GROUP_MEMBERS, most=MAX_GROUP_MEMBERS,
            note=f"a group has {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} other members"),
    Command("/contacts", "", "list contacts and groups", lambda _: Contacts()),
    Command("/block", "ID|ALIAS", "stop their messages to you, and their adding you to groups",
            lambda args: Block(args[0], on=True), (Arg.NAME,)),
    Command("/unblock", "ID|ALIAS", "take their later messages again",
            lambda args: Block(args[0], on=False), (Arg.NAME,)),
    Command("/blocked", "", "list whom you block (as the server last said)", lambda _: Blocked()),
    Command("/export", "FILE", "write the history in the original's backup format",
            lambda args: Export(args[0]), (Arg.PATH,)),
    Command("/help", "", "this list", lambda _: Help()),
    Command("/quit", "", "leave (Ctrl-C too)", lambda _: Quit()),
    Command("/register", "[CODE]",
            "create a new account (CODE: an invite, on a server that asks for one)",
            _register, (Arg.WORD,), least=0),
    Command("/login", "[ID [TOKEN]]",
            "log in (without TOKEN: --token's, else the stored one; without ID: the account "
            "in use)",
            lambda args: Login(_optional(args, 0), _optional(args, 1)), (Arg.NAME, Arg.WORD),
            least=0),
    Command("/send", "PEER TEXT", "send TEXT to a contact or group",
            lambda args: Send(args[0], args[1]), (Arg.NAME, Arg.TEXT)),
    Command("/read", "[PEER]", "mark everything received from PEER (default: the open chat) "
            "as read",
            lambda args: ReadUp(_optional(args, 0)), (Arg.NAME,), least=0),
    Command("/wait", "accepted|delivered|read [PEER] | received N",
            "wait for ticks or arrivals (scripts)",
            _wait, (Arg.TICK, Arg.NAME), least=1),
)
COMMANDS: dict[str, Command] = {command.name: command for command in _TABLE}
"""Every command by name, in the order of /help."""


def help_lines() -> list[str]:
    """/help: one line per command, from the same table parse() uses."""
    return [command.help_line for command in _TABLE]


def parse(line: str) -> Action | None:
    """The action a typed line asks for; None for a blank line; CommandError if invalid."""
    if not line.strip():
        return None
    if not line.startswith("/"):
        return Say(line)
    name, _, rest = line.partition(" ")
    command = COMMANDS.get(name)
    if command is None:
        raise CommandError(f"unknown command {name}; /help lists them")
    return command.parse(rest)


def _choices(kind: Arg | None, names: list[str]) -> list[str]:
    if kind is Arg.NAME:
        return names
    if kind is Arg.TICK:
        return [*TICK_NAMES, "received"]
    return []


def complete(line: str, names: list[str]) -> list[str]:
    """Completions for the word being typed at the end of `line`.

    The first word completes to a command; later words by the kind of argument
    they are: names (ids and aliases) for Arg.NAME, the tick words for Arg.TICK.
    A completion ends with a blank when another argument may follow it, so the
    next word can be typed at once.
    """
    if not line.startswith("/"):
        return []
    words = line.split(" ")
    current = words[-1]
    if len(words) == 1:
        return [name + (" " if command.args else "") for name, command in COMMANDS.items()
                if name.startswith(current) and (command.args or name != current)]
    command = COMMANDS.get(words[0])
    if command is None:
        return []
    index = len(words) - 2
    blank = " " if command.arg_at(index + 1) is not None else ""
    return [choice + blank for choice in _choices(command.arg_at(index), names)
            if choice.startswith(current) and choice + blank != current]
