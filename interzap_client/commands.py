"""Typed lines to actions: `/send bob hi` -> Send("bob", "hi"); a line without `/` -> Say.

Parsing only: names (ids or aliases) are resolved later by the session, which
knows the contacts. One table (COMMANDS) says, per command, its arguments,
its help line and the action it builds: parse(), /help and tab completion all
read it, so they never disagree. The actions themselves are intents.py's.
Refuses to know about the network, files and the user interface.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from interzap_client.intents import (
    Action,
    ActOn,
    Add,
    Block,
    Blocked,
    ChangeGroup,
    Contacts,
    Export,
    Group,
    Help,
    Info,
    Login,
    Members,
    Open,
    PresenceOf,
    Privacy,
    Quit,
    Reactions,
    ReadUp,
    Register,
    Say,
    Search,
    Send,
    SetName,
    Typing,
    WaitReceived,
    WaitTick,
    Whois,
)
from interzap_client.lines import unescape
from shared.codes import (
    INVITE_ALPHABET,
    INVITE_WIDTH,
    MAX_GROUP_MEMBERS,
    MAX_NAME,
    MIN_GROUP_MEMBERS,
    ActKind,
    GroupOp,
)
from shared.ids import is_group_id, is_user_id


class CommandError(ValueError):
    """A line that is not a valid command; the message says how to write it."""


HERE = "-here"
"""/search's option: the open chat only."""


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


REF = re.compile(r"#[1-9][0-9]*|[^\s@]+@[0-9]{10}")
"""A message of the open chat: `#N`, the Nth newest (#1 the newest), or `AUTHOR@TS`, by its
author (an id, an alias, or `me`) and ts, as the scripted mode's events name it."""


def _ref(word: str) -> str:
    if not REF.fullmatch(word):
        raise CommandError(f"{word!r} names no message: #N (the Nth newest) or AUTHOR@TS")
    return word


def _ref_and_text(kind: ActKind) -> Callable[[list[str]], Action]:
    """/reply, /edit: a leading REF if the first word is one and text follows it; the rest
    is the text."""

    def build(args: list[str]) -> Action:
        first, _, rest = args[0].partition(" ")
        if REF.fullmatch(first) and rest.strip():
            return ActOn(kind, first, rest.lstrip(" "))
        return ActOn(kind, None, args[0])

    return build


def _react(args: list[str]) -> Action:
    if len(args) == 2:
        return ActOn(ActKind.REACT, _ref(args[0]), args[1])
    return ActOn(ActKind.REACT, None, args[0])


def _group(args: list[str]) -> Action:
    """/group bob carol, or /group NAME: bob carol (the name may have blanks)."""
    name, colon, rest = " ".join(args).partition(":")
    members = tuple(rest.split()) if colon else tuple(args)
    if not MIN_GROUP_MEMBERS <= len(members) <= MAX_GROUP_MEMBERS:
        raise COMMANDS["/group"].usage_error()
    return Group(members, name.strip() if colon else None)


def _on_group(op: str) -> Callable[[list[str]], Action]:
    """The build of a command making a 23 of `op` about a person (or a name: rename)."""
    return lambda args: ChangeGroup(op, " ".join(args).strip() or None)


def _search(args: list[str]) -> Action:
    option, _, words = args[0].partition(" ")
    if option != HERE:
        return Search(args[0], here=False)
    if not words.strip():
        raise COMMANDS["/search"].usage_error()
    return Search(words, here=True)


def _multiline(args: list[str]) -> Action:
    return Send(args[0], unescape(args[1]))


def _wait(args: list[str]) -> Action:
    what, peer = args[0], _optional(args, 1)
    if what == "received":
        if peer is None or not peer.isdigit():
            raise CommandError("usage: /wait received N (a number)")
        return WaitReceived(int(peer))
    if what not in TICK_NAMES:
        raise COMMANDS["/wait"].usage_error()
    return WaitTick(what, peer)


def _info(args: list[str]) -> Action:
    nth = _optional(args, 0) or "1"
    if not nth.isdigit() or int(nth) < 1:
        raise COMMANDS["/info"].usage_error()
    return Info(int(nth))


def _privacy(args: list[str]) -> Action:
    if args[0] != "lastseen" or args[1] not in ("on", "off"):
        raise COMMANDS["/privacy"].usage_error()
    return Privacy(hidden=args[1] == "off")


_TABLE = (
    Command("/add", "ID [ALIAS]", "add a contact, with a local alias (a group can have one too)",
            _add, (Arg.NAME, Arg.WORD), least=1),
    Command("/open", "ID|ALIAS", "open a conversation (and mark it read)",
            lambda args: Open(args[0]), (Arg.NAME,)),
    Command("/group", "[NAME:] ID|ALIAS ...",
            f"create a group with {MIN_GROUP_MEMBERS} to {MAX_GROUP_MEMBERS} others "
            "(you are added), named NAME if given; it opens",
            _group, (Arg.NAME,),
            least=MIN_GROUP_MEMBERS, most=MAX_GROUP_MEMBERS + MAX_NAME,
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
    Command("/reply", "[REF] TEXT", "answer a message, quoting it (REF: #N the Nth newest, "
            "AUTHOR@TS; default: the selected one, else the last from the others)",
            _ref_and_text(ActKind.REPLY), (Arg.TEXT,)),
    Command("/edit", "[REF] TEXT", "replace the text of your message, within 15 minutes "
            "(default: the selected one, else your last)",
            _ref_and_text(ActKind.EDIT), (Arg.TEXT,)),
    Command("/delete", "[REF]", "delete your message for everyone, within 48 hours "
            "(default: the selected one, else your last)",
            lambda args: ActOn(ActKind.DELETE, _ref(args[0]) if args else None), (Arg.WORD,),
            least=0),
    Command("/react", "[REF] EMOJI", "react with one emoji; the same again takes it back "
            "(default: the selected message, else the last from the others)",
            _react, (Arg.WORD, Arg.WORD), least=1),
    Command("/reactions", "[REF]", "who reacted with what (default: the selected message, "
            "else the last with reactions)",
            lambda args: Reactions(_ref(args[0]) if args else None), (Arg.WORD,), least=0),
    Command("/name", "NAME", f"your display name (1 to {MAX_NAME} characters), shown to "
            "everyone you share a chat with", lambda args: SetName(args[0].strip()),
            (Arg.TEXT,)),
    Command("/whois", "NAME|ID", "who has that display name, or what an id is called",
            lambda args: Whois(args[0].strip()), (Arg.TEXT,)),
    Command("/rename", "NAME", "rename the open group (admins)", _on_group(GroupOp.RENAME),
            (Arg.TEXT,)),
    Command("/invite", "ID|ALIAS", "add someone to the open group (admins)",
            _on_group(GroupOp.ADD), (Arg.NAME,)),
    Command("/remove", "ID|ALIAS", "remove a member from the open group (admins)",
            _on_group(GroupOp.REMOVE), (Arg.NAME,)),
    Command("/promote", "ID|ALIAS", "make a member of the open group an admin (admins)",
            _on_group(GroupOp.PROMOTE), (Arg.NAME,)),
    Command("/demote", "ID|ALIAS", "make an admin of the open group a member again (admins)",
            _on_group(GroupOp.DEMOTE), (Arg.NAME,)),
    Command("/leave", "[GROUP]", "leave the open group (or GROUP); you keep its history",
            lambda args: ChangeGroup(GroupOp.LEAVE, None, _optional(args, 0)), (Arg.NAME,),
            least=0),
    Command("/members", "[GROUP]", "the members of the open group (or GROUP): names, ids, "
            "admins", lambda args: Members(_optional(args, 0)), (Arg.NAME,), least=0),
    Command("/ml", "PEER TEXT", "send TEXT with \\n as a line break (\\\\ a backslash): "
            "a message of several lines from a script",
            _multiline, (Arg.NAME, Arg.TEXT)),
    Command("/search", f"[{HERE}] WORDS", "messages holding every word, newest first, in "
            f"every chat (or with {HERE} the open one); accents and case do not matter",
            _search, (Arg.TEXT,)),
    Command("/info", "[N]", "who got and read your last (or Nth last) message in the open group",
            _info, (Arg.WORD,), least=0),
    Command("/typing", "[PEER]", "tell PEER (default: the open chat) you are typing (scripts; "
            "the screen does it as you type)",
            lambda args: Typing(_optional(args, 0)), (Arg.NAME,), least=0),
    Command("/privacy", "lastseen on|off", "share or hide your last seen and online (hidden: "
            "you see nobody's)", _privacy, (Arg.WORD, Arg.WORD)),
    Command("/presence", "ID|ALIAS", "is a contact online, or when last seen?",
            lambda args: PresenceOf(args[0]), (Arg.NAME,)),
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
