"""One frozen dataclass per frame, named for what it means; no behaviour.

Field names follow PROTOCOL.md. Ids are str, timestamps int (Unix seconds).
The frame code of each event is in codec.LAYOUTS, the single source of truth.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Greeting:
    """00: the first frame on every connection."""

    text: str


@dataclass(frozen=True, slots=True)
class Register:
    """01: ask for a new account."""


@dataclass(frozen=True, slots=True)
class Registered:
    """02: the new account's id and its secret token."""

    user: str
    token: str


@dataclass(frozen=True, slots=True)
class Login:
    """03: log in with the id and token from 02."""

    user: str
    token: str


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """04: logged in; everything queued for you follows."""

    user: str


@dataclass(frozen=True, slots=True)
class Send:
    """05: a message from src (you) to dst (a user or a group); (src, dst, ts) is its key."""

    src: str
    dst: str
    ts: int
    text: str


@dataclass(frozen=True, slots=True)
class Deliver:
    """06: a message for you; for a group, dst is the group and src the author."""

    src: str
    dst: str
    ts: int
    text: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """07: your message to dst with this ts reached every recipient's client."""

    dst: str
    ts: int


@dataclass(frozen=True, slots=True)
class Read:
    """08: I have read everything from peer (a user or a group) up to ts."""

    peer: str
    ts: int


@dataclass(frozen=True, slots=True)
class ReadNotice:
    """09: your messages to peer (the reader, or a group) have been read up to ts."""

    peer: str
    ts: int


@dataclass(frozen=True, slots=True)
class CreateGroup:
    """10: create a group of members plus the creator; (creator, ts) is its key."""

    creator: str
    ts: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupCreated:
    """11: a group you are in; members lists the creator first."""

    group: str
    ts: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Receipt:
    """12: my client has stored the 06 with this key."""

    src: str
    dst: str
    ts: int


@dataclass(frozen=True, slots=True)
class Error:
    """13: your frame was refused; code is an ErrorCode (or a newer number)."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Ping:
    """14: are you there?"""


@dataclass(frozen=True, slots=True)
class Pong:
    """15: yes (the answer to 14)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """16: your 05 to dst with this ts is committed (first tick)."""

    dst: str
    ts: int


@dataclass(frozen=True, slots=True)
class Block:
    """17: stop delivering user's 1:1 messages to me, and let them not add me to groups."""

    user: str


@dataclass(frozen=True, slots=True)
class Unblock:
    """18: deliver user's later 1:1 messages to me again."""

    user: str


@dataclass(frozen=True, slots=True)
class BlockList:
    """19: every user you block, in the order of their numbers (none: an empty list)."""

    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegisterInvite:
    """20: ask for a new account with a one-time invite code from the server's operator."""

    code: str


@dataclass(frozen=True, slots=True)
class SetName:
    """21: my display name is now `name`."""

    name: str


@dataclass(frozen=True, slots=True)
class Name:
    """22: `user`'s display name is `name`."""

    user: str
    name: str


@dataclass(frozen=True, slots=True)
class GroupChange:
    """23: change `group` (op: GroupOp); (group, you, ts) is its key."""

    group: str
    ts: int
    op: str
    arg: str


@dataclass(frozen=True, slots=True)
class GroupEvent:
    """24: `actor` changed `group` (op: GroupOp) by the 23 with this ts."""

    group: str
    ts: int
    actor: str
    op: str
    arg: str


@dataclass(frozen=True, slots=True)
class Info:
    """25: who got and read my message to `group` with this ts?"""

    group: str
    ts: int


@dataclass(frozen=True, slots=True)
class InfoAnswer:
    """26: per other member of `group`, (member, delivered at, read at) for my message ts;
    a time 0 is "not yet"."""

    group: str
    ts: int
    states: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class Typing:
    """27: src is typing in dst (to the server: src is you; dst a user or a group)."""

    src: str
    dst: str


@dataclass(frozen=True, slots=True)
class Privacy:
    """28: hide (1) or share (0) my last seen and online; answered by my own 30."""

    hidden: int


@dataclass(frozen=True, slots=True)
class PresenceAsk:
    """29: is user online, or when were they last seen?"""

    user: str


@dataclass(frozen=True, slots=True)
class Presence:
    """30: user is online (ts ONLINE), hidden from you (ts HIDDEN), or was last seen at ts."""

    user: str
    ts: int


ONLINE = 0
"""The ts of a 30 for someone online now."""
HIDDEN = 9_999_999_999
"""The ts of a 30 for someone whose presence you may not see (privacy, block, no chat)."""


@dataclass(frozen=True, slots=True)
class _ActFields:
    """What 31 and 32 hold: one layout (codec._ACT_FIELDS), so a 32 relays its 31."""

    src: str
    dst: str
    ts: int
    kind: str
    ref_src: str
    ref_ts: int
    text: str


@dataclass(frozen=True, slots=True)
class Act(_ActFields):
    """31: a reply, edit, deletion or reaction (kind) by src in the chat dst, about the
    message (ref_src, that chat, ref_ts); (src, dst, ts) is its own key."""


@dataclass(frozen=True, slots=True)
class Acted(_ActFields):
    """32: a 31 for you, as its author sent it; acknowledge it with 12 of its own key."""


Event = (
    Greeting | Register | Registered | Login | LoggedIn | Send | Deliver | Delivered | Read
    | ReadNotice | CreateGroup | GroupCreated | Receipt | Error | Ping | Pong | Accepted
    | Block | Unblock | BlockList | RegisterInvite | SetName | Name | GroupChange | GroupEvent
    | Info | InfoAnswer | Typing | Privacy | PresenceAsk | Presence | Act | Acted
)


RATE_FREE = (Receipt, Pong)
"""Frames that answer the other side (12, 15): never counted by the server's rate
limit, never paced by the client (PROTOCOL.md 5.7). A tuple, for isinstance."""
