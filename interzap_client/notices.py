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
    ErrorCode.SERVER_FULL: "the server is full; the client will try again",
    ErrorCode.QUEUE_FULL: "the recipient has too many undelivered messages; the client will "
                          "try again",
    ErrorCode.TIMEOUT: "the server closed a connection it found idle; the client will reconnect",
    ErrorCode.NOT_PERMITTED: "not permitted",
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
    count: int | None = None  # pending: entries left in the outbox
    users: tuple[str, ...] | None = None  # blocked: everyone you block (maybe none)
    blocked: bool | None = None  # contact: True if you block them
    server: str | None = None  # registered/logged_in/reconnected/failover: the server in use


@dataclass(frozen=True, slots=True)
class Origin:
    """The script line a request came from: an error about the request names it."""

    line: int
    command: str


def to_json(notice: Notice) -> str:
    """One JSON object, without the fields that do not apply; keys in a stable order."""
    record: dict[str, Any] = {k: v for k, v in asdict(notice).items() if v is not None}
    for name in ("members", "users"):
        if name in record:
            record[name] = list(record[name])
    return json.dumps(record, ensure_ascii=False)


def to_text(notice: Notice) -> str:
    """One line for people and for `awk`: the event name, then its fields by position.

    message PEER AUTHOR TS TEXT | accepted/delivered/read PEER TS | group GROUP MEMBER...
    registered/logged_in/reconnected ID | failover SERVER | error CODE [line N "COMMAND":] WORDS
    contact ID [ALIAS] [blocked] | blocked [ID...] | info/warning TEXT
    """
    n = notice
    parts: list[Any]
    if n.event == "message":
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
    else:
        parts = [n.text]
    return " ".join(str(p) for p in [n.event, *parts] if p is not None)


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
