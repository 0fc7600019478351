"""A model of the server's chat rules (PROTOCOL.md 5), for the stateful hostile-input test.

Lines in, the frames each connection must receive out. Knows no sockets and no
SQL: the state machine in machine.py feeds it the very bytes it sends and then
holds the running server to what the model says each connection is owed.

Theory of operation: the model mirrors the server's state as plain dicts (users,
groups, accepted message keys with the recipients that still owe a 12, one
queue per user, read marks). `handle_line` applies one frame exactly as section
5.1 orders the checks and appends the frames it causes to `Conn.expected`: the
direct answer to the sender, and the 06/07/09/11 to every recipient that is
online (or to its queue if it is not). Framing follows the naive rules of
PROTOCOL.md 1; decoding uses shared.codec, whose own properties and fuzzing are
in test_fuzz.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared import events as ev
from shared.codec import Side, decode
from shared.codes import MAX_FRAME, MAX_GROUP_MEMBERS, MIN_GROUP_MEMBERS, ErrorCode
from shared.errors import RemoteProtocolError
from shared.ids import group_id, is_group_id, user_id

Key = tuple[str, str, int]
"""A message key (src, dst, ts), PROTOCOL.md 5.2."""
ANY_TOKEN = "?" * 32
"""What the model expects in a 02: the token is random, learnt from the server's answer."""
ANSWERS = (ev.Accepted, ev.Error)
"""Direct answers whose order per connection is checked (PROTOCOL.md 1: count the 13s)."""


@dataclass(eq=False)
class Conn:
    """One connection as the model sees it; `wire` is whatever the caller talks through."""

    wire: Any
    user: str | None = None
    expected: list[ev.Event] = field(default_factory=list)
    """Frames owed on this connection since the last check, in the order caused."""
    closing: bool = False
    """Replaced by a newer login (13/12): the server closes it."""


@dataclass
class Message:
    recipients: tuple[str, ...]
    pending: set[str]
    """Recipients whose 12 has not come yet."""


@dataclass
class Entry:
    """A frame owed to a user: a 06 (key set, stays until its 12) or a 07/09/11."""

    event: ev.Event
    key: Key | None = None


def error(code: int) -> ev.Error:
    """The expected form of a 13: the code counts, the reason is for people."""
    return ev.Error(ErrorCode(code), "")


class Model:
    """The server's state and rules, applied line by line."""

    def __init__(self) -> None:
        self.tokens: dict[str, str | None] = {}  # None until the 02 has been read
        self.groups: dict[str, tuple[str, ...]] = {}
        self.group_keys: dict[tuple[str, int], str] = {}
        self.messages: dict[Key, Message] = {}
        self.queues: dict[str, list[Entry]] = {}
        self.online: dict[str, Conn] = {}
        self.marks: dict[tuple[str, str], dict[str, int]] = {}  # (dst, author) -> reader -> ts

    # -- what the state machine asks ----------------------------------------------

    def known_users(self) -> list[str]:
        """Users whose token the model knows, in id order."""
        return [user for user, token in self.tokens.items() if token is not None]

    def disconnect(self, conn: Conn) -> None:
        if conn.user is not None and self.online.get(conn.user) is conn:
            del self.online[conn.user]

    def owed(self) -> dict[str, list[Entry]]:
        """Every non-empty queue."""
        return {user: queue for user, queue in self.queues.items() if queue}

    # -- lines --------------------------------------------------------------------

    def handle_data(self, conn: Conn, data: bytes) -> bool:
        """Apply every LF-terminated line of `data`; True if one of them logged in with 03."""
        *lines, rest = data.split(b"\n")
        assert rest == b"", "the state machine sends whole lines only"
        logged_in = False
        for line in lines:
            logged_in |= self.handle_line(conn, line)
        return logged_in

    def handle_line(self, conn: Conn, line: bytes) -> bool:
        """One frame line without its LF (PROTOCOL.md 5.1, checks 1 to 5)."""
        content = line[:-1] if line.endswith(b"\r") else line
        if len(content) > MAX_FRAME:
            conn.expected.append(error(ErrorCode.TOO_LONG))
            return False
        try:
            event = decode(content, Side.CLIENT)
        except RemoteProtocolError as refusal:
            conn.expected.append(error(refusal.code))
            return False
        return self.handle_event(conn, event)

    def handle_event(self, conn: Conn, event: ev.Event) -> bool:
        if isinstance(event, ev.Pong):
            return False
        if conn.user is None and not isinstance(event, ev.Register | ev.Login | ev.Ping):
            conn.expected.append(error(ErrorCode.NOT_LOGGED_IN))
            return False
        if conn.user is not None and isinstance(event, ev.Register | ev.Login):
            conn.expected.append(error(ErrorCode.ALREADY_LOGGED_IN))
            return False
        if isinstance(event, ev.Login):
            return self._login(conn, event)
        handler = {
            ev.Ping: self._ping, ev.Register: self._register, ev.Send: self._send,
            ev.Receipt: self._receipt, ev.Read: self._read, ev.CreateGroup: self._create_group,
        }[type(event)]
        refusal = handler(conn, event)
        if refusal is not None:
            conn.expected.append(error(refusal))
        return False

    # -- rules ----------------------------------------------------------------------

    def _owe(self, user: str, event: ev.Event, key: Key | None = None) -> None:
        """Queue a frame; an online user gets it at once (a 07/09/11 then leaves the queue)."""
        conn = self.online.get(user)
        if key is not None or conn is None:
            self.queues[user].append(Entry(event, key))
        if conn is not None:
            conn.expected.append(event)

    def _ping(self, conn: Conn, event: ev.Ping) -> None:
        conn.expected.append(ev.Pong())

    def _register(self, conn: Conn, event: ev.Register) -> None:
        user = user_id(len(self.tokens) + 1)
        self.tokens[user] = None
        self.queues[user] = []
        conn.user = user
        self.online[user] = conn
        conn.expected.append(ev.Registered(user, ANY_TOKEN))

    def _login(self, conn: Conn, event: ev.Login) -> bool:
        token = self.tokens.get(event.user)
        if token is None or token != event.token:
            conn.expected.append(error(ErrorCode.BAD_CREDENTIALS))
            return False
        old = self.online.get(event.user)
        if old is not None:
            old.expected.append(error(ErrorCode.REPLACED))
            old.closing = True
        conn.user = event.user
        self.online[event.user] = conn
        conn.expected.append(ev.LoggedIn(event.user))
        queue = self.queues[event.user]
        conn.expected += [entry.event for entry in queue]
        queue[:] = [entry for entry in queue if entry.key is not None]  # 06s stay until 12
        return True

    def _members(self, group: str, user: str) -> tuple[str, ...] | int:
        members = self.groups.get(group)
        if members is None:
            return ErrorCode.UNKNOWN_PEER
        if user not in members:
            return ErrorCode.NOT_A_MEMBER
        return members

    def _send(self, conn: Conn, event: ev.Send) -> int | None:
        me = conn.user
        assert me is not None
        if event.src != me:
            return ErrorCode.NOT_YOU
        if is_group_id(event.dst):
            members = self._members(event.dst, me)
            if isinstance(members, int):
                return members
            recipients = tuple(m for m in members if m != me)
        elif event.dst not in self.tokens:
            return ErrorCode.UNKNOWN_PEER
        else:
            recipients = (event.dst,)
        key = (event.src, event.dst, event.ts)
        if key not in self.messages:  # else a retransmission: 16 again, nothing delivered
            self.messages[key] = Message(recipients, set(recipients))
            for recipient in recipients:
                self._owe(recipient, ev.Deliver(*key, event.text), key)
        conn.expected.append(ev.Accepted(event.dst, event.ts))
        return None

    def _receipt(self, conn: Conn, event: ev.Receipt) -> None:
        me = conn.user
        key = (event.src, event.dst, event.ts)
        message = self.messages.get(key)
        if message is None or me not in message.pending:
            return  # unknown or already acknowledged: ignored
        message.pending.discard(me)
        self.queues[me] = [entry for entry in self.queues[me] if entry.key != key]
        if not message.pending:
            self._owe(event.src, ev.Delivered(event.dst, event.ts))

    def _read(self, conn: Conn, event: ev.Read) -> int | None:
        reader = conn.user
        assert reader is not None
        if is_group_id(event.peer):
            members = self._members(event.peer, reader)
            if isinstance(members, int):
                return members
            dst = event.peer
            authored = [key for key in self.messages if key[1] == dst and key[0] != reader]
        elif event.peer not in self.tokens:
            return ErrorCode.UNKNOWN_PEER
        else:
            dst, members = reader, (reader,)
            authored = [key for key in self.messages if key[1] == dst and key[0] == event.peer]
        newest: dict[str, int] = {}
        for src, _, ts in authored:  # only messages the reader acknowledged count (5.4)
            if ts <= event.ts and reader not in self.messages[(src, dst, ts)].pending:
                newest[src] = max(newest.get(src, 0), ts)
        for author, ts in newest.items():
            marks = self.marks.setdefault((dst, author), {})
            if ts <= marks.get(reader, 0):
                continue
            others = [m for m in members if m != author] or [reader]
            before = min(marks.get(m, 0) for m in others)
            marks[reader] = ts
            after = min(marks.get(m, 0) for m in others)
            if after > before:
                self._owe(author, ev.ReadNotice(dst, after))
        return None

    def _create_group(self, conn: Conn, event: ev.CreateGroup) -> int | None:
        me = conn.user
        assert me is not None
        if event.creator != me:
            return ErrorCode.NOT_YOU
        existing = self.group_keys.get((me, event.ts))
        if existing is not None:  # a repeated 10: the same 11 again, to the creator only
            conn.expected.append(ev.GroupCreated(existing, event.ts, self.groups[existing]))
            return None
        members = event.members
        if (not MIN_GROUP_MEMBERS <= len(members) <= MAX_GROUP_MEMBERS
                or len(set(members)) != len(members) or me in members):
            return ErrorCode.INVALID_GROUP
        if any(member not in self.tokens for member in members):
            return ErrorCode.UNKNOWN_PEER
        group = group_id(len(self.groups) + 1)
        people = (me, *members)
        self.groups[group] = people
        self.group_keys[(me, event.ts)] = group
        for person in people:
            self._owe(person, ev.GroupCreated(group, event.ts, people))
        return None
