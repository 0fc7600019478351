"""What the client tells its user: one Notice per thing that happened, and how to print it.

The scripted mode prints every Notice as one line (text or JSON: a public,
documented interface, so fields are only ever added); the full-screen UI shows
some of them. Also the words for the server's error codes (13), because a
person should never have to look up "13/05". And Announcer: how notices and
changes reach listeners and waiters. Refuses to know about sockets, files
and prompt_toolkit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from interzap_client.lines import for_people
from shared.codes import MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS, ErrorCode

ERROR_WORDS: dict[int, str] = {
    ErrorCode.MALFORMED: "the server did not understand a frame (a client bug)",
    ErrorCode.TOO_LONG: "a frame was too long for the server",
    ErrorCode.NOT_LOGGED_IN: "you are not logged in",
    ErrorCode.BAD_CREDENTIALS: "unknown id or wrong token",
    ErrorCode.UNKNOWN_PEER: "no such user or group",
    ErrorCode.NOT_YOU: "the server thinks you sent as someone else (a client bug)",
    ErrorCode.NOT_A_MEMBER: "you are not a member of that group",
    ErrorCode.INVALID_GROUP: (f"a group needs {MIN_GROUP_MEMBERS} to "
                             f"{MAX_GROUP_MEMBERS} other members, each listed once"),
    ErrorCode.INVALID_TEXT: "the message is empty, too long or holds a control character",
    ErrorCode.RATE_LIMITED: "slow down: the server limits how fast you may send",
    ErrorCode.ALREADY_LOGGED_IN: "this connection is logged in already",
    ErrorCode.REPLACED: "you logged in somewhere else; this session was closed",
    ErrorCode.SERVER_FULL: ("the server has all the connections it takes; the client tries "
                            "again by itself, or try later"),
    ErrorCode.QUEUE_FULL: "the recipient has too many undelivered messages; the client will "
                          "try again",
    ErrorCode.TIMEOUT: "the server closed a connection it found idle; the client will reconnect",
    ErrorCode.TOO_MANY_ACCOUNTS: ("too many accounts were made from your network lately; "
                                  "/register again later"),
    ErrorCode.TOO_MANY_CONNECTIONS: ("too many connections from your network; close another "
                                     "client there, this one tries again by itself"),
    ErrorCode.TOO_MANY_FAILED_LOGINS: ("too many failed logins from your network lately; "
                                       "wait, then /login with the right id and token"),
    ErrorCode.NOT_PERMITTED: "not permitted",
    ErrorCode.REGISTRATION_CLOSED: "this server does not take new accounts this way",
    ErrorCode.BAD_INVITE: "the invite code cannot be used",
    ErrorCode.ACCOUNT_DISABLED: ("the server's operator disabled this account; ask them to "
                                 "enable it, then /login"),
    ErrorCode.NOT_AUTHOR: "only its author may edit or delete a message",
    ErrorCode.TOO_LATE: "too late: a message can be edited for 15 minutes and deleted for "
                        "48 hours after it was sent",
    ErrorCode.UNKNOWN_MESSAGE: "the server does not know that message in this chat",
    ErrorCode.INVALID_REACTION: "a reaction is one emoji",
    ErrorCode.NOT_ADMIN: "only an admin of the group may do that",
    ErrorCode.INVALID_NAME: "the name is empty, too long, holds a control character or looks "
                            "like an id",
    ErrorCode.GROUP_FULL: f"the group has {MAX_GROUP_MEMBERS + 1} people, the most it may",
    ErrorCode.WRONG_MEMBER: "that person is not in the group (or already is, or already has "
                            "that role)",
    ErrorCode.NOT_YOUR_MESSAGE: "the server knows no such message of yours (older than 7 days?)",
    ErrorCode.INTERNAL: "the server failed; the client will try again",
}
LOCAL_ERROR = 0
"""Notice.code for errors found by the client itself (a bad command, a timeout)."""


def error_words(code: int, reason: str = "") -> str:
    """Our words for a 13 code, then the server's reason in brackets if it says more."""
    words = ERROR_WORDS.get(code, f"the server refused it (error {code:02d})")
    if not reason or reason.lower() in words.lower():
        return words  # 13/04's reason is our words exactly: do not say it twice
    return f"{words} ({reason})"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something worth telling the user; fields that do not apply stay None."""

    event: str
    peer: str | None = None  # the conversation: the other user, or the group
    author: str | None = None  # who wrote a message (differs from peer in groups)
    ts: int | None = None
    text: str | None = None  # message text, or words for a person (error, info, warning)
    id: str | None = None  # registered / logged_in: our id; contact: the contact's id
    group: str | None = None  # the group a message or a group event is about
    members: tuple[str, ...] | None = None
    code: int | None = None  # error: the server's 13 code, or 0 for a local error
    alias: str | None = None  # contact: its local alias
    line: int | None = None  # error: the script line it answers (scripted mode)
    command: str | None = None  # error: that line's text
    count: int | None = None  # pending: entries left in the outbox; searched: messages found
    users: tuple[str, ...] | None = None  # blocked: everyone you block (maybe none)
    blocked: bool | None = None  # contact: True if you block them
    ref_author: str | None = None  # reply/edited/deleted/reaction(s): the message it is about
    ref_ts: int | None = None  # ... and its ts
    quote: str | None = None  # message (a reply): the start of the message it answers
    known: bool | None = None  # edited/deleted/reaction, reply: whether we have that message
    reactions: dict[str, list[str]] | None = None  # reactions: per emoji, who chose it
    name: str | None = None  # name, whois, member: a display name; group_change: a group name
    op: str | None = None  # group_change: the 24's op (PROTOCOL.md 23)
    admin: bool | None = None  # member: True for an admin
    states: tuple[tuple[str, int, int], ...] | None = None  # receipts: (member, delivered, read)
    server: str | None = None  # registered/logged_in/reconnected/failover: the server in use


@dataclass(frozen=True, slots=True)
class Origin:
    """The script line a request came from: an error about the request names it."""

    line: int
    command: str


def to_json(notice: Notice) -> str:
    """One JSON object, without the fields that do not apply; keys in a stable order.

    A text of several lines has "\n" between them (escaped: still one line of output).
    """
    record: dict[str, Any] = {k: v for k, v in asdict(notice).items() if v is not None}
    for name in ("members", "users", "states"):
        if name in record:
            record[name] = [list(x) if isinstance(x, tuple) else x for x in record[name]]
    if "text" in record:
        record["text"] = for_people(record["text"])
    return json.dumps(record, ensure_ascii=False)


def to_text(notice: Notice) -> str:
    """One line for people and for `awk`: the event name, then its fields by position.

    message/found PEER AUTHOR TS TEXT | accepted/delivered/read PEER TS | group GROUP MEMBER...
    edited PEER AUTHOR REF_TS TEXT | deleted PEER AUTHOR REF_TS
    reaction PEER AUTHOR REF_AUTHOR REF_TS [EMOJI] | reactions PEER REF_AUTHOR REF_TS EMOJI=ID,...
    registered/logged_in/reconnected ID | failover SERVER | error CODE [line N "COMMAND":] WORDS
    contact ID [ALIAS] [blocked] | blocked [ID...] | searched COUNT WORDS | info/warning TEXT
    name ID NAME | whois ID [NAME] | member GROUP ID [admin] [NAME]
    group_change GROUP ACTOR TS OP [ID|NAME] [WORDS]
    typing PEER AUTHOR | presence PEER online|hidden|last seen TS | privacy hidden|shared
    receipts GROUP TS MEMBER:DELIVERED:READ...

    A text of several lines goes on: each further line is an output line of its
    own that starts with CONTINUED (no event line starts with a blank).
    """
    words = " ".join(str(p) for p in [notice.event, *_parts(notice)] if p is not None)
    return for_people(words).replace("\n", "\n" + CONTINUED)


CONTINUED = "  "
"""What starts each further line of a text in the text output (to_text)."""


def _parts(n: Notice) -> list[Any]:
    """The fields to_text() writes after the event name."""
    parts: list[Any]
    if n.event in ("message", "found"):
        parts = [n.peer, n.author, n.ts, n.text]
    elif n.event in ("accepted", "delivered", "read"):
        parts = [n.peer, n.ts]
    elif n.event == "group":
        parts = [n.group, *(n.members or ())]
    elif n.event in ("registered", "logged_in", "reconnected"):
        parts = [n.id]
    elif n.event == "failover":
        parts = [n.server]
    elif n.event == "error":
        parts = [f"{n.code or 0:02d}", *_where(n), n.text]
    elif n.event == "contact":
        parts = [n.id, n.alias, "blocked" if n.blocked else None]
    elif n.event == "blocked":
        parts = list(n.users or ())
    elif n.event in _PARTS:
        parts = _PARTS[n.event](n)
    else:
        parts = [n.text]
    return parts


_ACT_PARTS: dict[str, Callable[[Notice], list[Any]]] = {
    "edited": lambda n: [n.peer, n.author, n.ref_ts, n.text],
    "deleted": lambda n: [n.peer, n.author, n.ref_ts],
    "reaction": lambda n: [n.peer, n.author, n.ref_author, n.ref_ts, n.text or None],
    "reactions": lambda n: [n.peer, n.ref_author, n.ref_ts,
                            *(f"{emoji}={','.join(who)}" for emoji, who in
                              (n.reactions or {}).items())],
}
"""The text-mode fields of the notices about replies' originals, edits and reactions."""

_PEOPLE: dict[str, Callable[[Notice], list[Any]]] = {
    "name": lambda n: [n.id, n.name],
    "whois": lambda n: [n.id, n.name],
    "member": lambda n: [n.group, n.id, "admin" if n.admin else None, n.name],
    "group_change": lambda n: [n.group, n.author, n.ts, n.op, n.id or n.name, n.text],
}
"""The fields of the notices of names and groups (people.py), by position."""

_LIVE_PARTS: dict[str, Callable[[Notice], list[Any]]] = {
    "typing": lambda n: [n.peer, n.author],
    "presence": lambda n: [n.peer, n.text, n.ts if n.text == "last seen" else None],
    "receipts": lambda n: [n.peer, n.ts, *(f"{m}:{d}:{r}" for m, d, r in n.states or ())],
}
"""The fields of typing, presence and receipts notices, by position (privacy: its text)."""
_PARTS = _ACT_PARTS | _PEOPLE | _LIVE_PARTS | {"searched": lambda n: [n.count, n.text]}
"""The text-mode fields of the notices that have their own, by event."""


def _where(n: Notice) -> list[str]:
    """`line 3 "/send bob hi":` for an error that answers a script line, else nothing."""
    if n.line is None:
        return []
    return ["line", str(n.line), json.dumps(n.command, ensure_ascii=False) + ":"]


class Announcer:
    """Hands every Notice to the listeners, and wakes whoever waits for a change."""

    def __init__(self) -> None:
        self.errors = 0  # error notices so far: a script's exit status
        self.origin: Origin | None = None  # the script line being carried out, if any
        self._changed = asyncio.Event()
        self._listeners: list[Callable[[Notice | None], None]] = []

    def subscribe(self, listener: Callable[[Notice | None], None]) -> None:
        """Call `listener` with every Notice, and with None after any other change."""
        self._listeners.append(listener)

    def notify(self, notice: Notice) -> None:
        if notice.event == "error":
            self.errors += 1
        for listener in self._listeners:
            listener(notice)
        self.touch()

    def fail(self, words: str, code: int = LOCAL_ERROR, **fields: Any) -> None:
        """Announce an error found while carrying out the current line (it names the line):
        the server's 13 code, or LOCAL_ERROR for our own findings."""
        self.fail_about(self.origin, words, code, **fields)

    def fail_about(self, origin: Origin | None, words: str, code: int = LOCAL_ERROR,
                   **fields: Any) -> None:
        """Announce an error about what `origin` asked for (None: about no line, as a
        dropped connection or a 13 to a request of an earlier run)."""
        if origin is not None:
            fields.update(line=origin.line, command=origin.command)
        self.notify(Notice("error", code=code, text=words, **fields))

    def touch(self) -> None:
        """Wake every wait_until() and repaint."""
        self._changed.set()
        self._changed = asyncio.Event()  # a fresh one: each waiter sees each change
        for listener in self._listeners:
            listener(None)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Whether `predicate` became true within `timeout` seconds (checked on each change)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True
