"""One frozen dataclass per frame, named for what it means; no behaviour.

Field names follow PROTOCOL.md. Ids are str, timestamps int (Unix seconds).
The frame code of each event is in codec.LAYOUTS, the single source of truth.

Frozen for mypy, not at run time (see `event`): a server builds two events per
message it carries, and a frozen dataclass takes three times as long to build.
"""

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def event(cls: type[_T]) -> type[_T]:
    """A slotted dataclass, compared and hashed by its fields, which mypy --strict treats as
    frozen (assigning a field is an error it reports).

    Not frozen at run time: a frozen dataclass's __init__ sets each field through
    object.__setattr__ (0.79 us for a 05's four fields against 0.26 us). Equality,
    hashing and repr are those of frozen=True.
    """
    return dataclass(slots=True, unsafe_hash=True)(cls)


@event
class Greeting:
    """00: the first frame on every connection."""

    text: str


@event
class Register:
    """01: ask for a new account."""


@event
class Registered:
    """02: the new account's id and its secret token."""

    user: str
    token: str


@event
class Login:
    """03: log in with the id and token from 02."""

    user: str
    token: str


@event
class LoggedIn:
    """04: logged in; everything queued for you follows."""

    user: str


@event
class Send:
    """05: a message from src (you) to dst (a user or a group); (src, dst, ts) is its key."""

    src: str
    dst: str
    ts: int
    text: str


@event
class Deliver:
    """06: a message for you; for a group, dst is the group and src the author."""

    src: str
    dst: str
    ts: int
    text: str


@event
class Delivered:
    """07: your message to dst with this ts reached every recipient's client."""

    dst: str
    ts: int


@event
class Read:
    """08: I have read everything from peer (a user or a group) up to ts."""

    peer: str
    ts: int


@event
class ReadNotice:
    """09: your messages to peer (the reader, or a group) have been read up to ts."""

    peer: str
    ts: int


@event
class CreateGroup:
    """10: create a group of members plus the creator; (creator, ts) is its key."""

    creator: str
    ts: int
    members: tuple[str, ...]


@event
class GroupCreated:
    """11: a group you are in; members lists the creator first."""

    group: str
    ts: int
    members: tuple[str, ...]


@event
class Receipt:
    """12: my client has stored the 06 with this key."""

    src: str
    dst: str
    ts: int


@event
class Error:
    """13: your frame was refused; code is an ErrorCode (or a newer number)."""

    code: int
    reason: str


@event
class Ping:
    """14: are you there?"""


@event
class Pong:
    """15: yes (the answer to 14)."""


@event
class Accepted:
    """16: your 05 to dst with this ts is committed (first tick)."""

    dst: str
    ts: int


@event
class Block:
    """17: stop delivering user's 1:1 messages to me, and let them not add me to groups."""

    user: str


@event
class Unblock:
    """18: deliver user's later 1:1 messages to me again."""

    user: str


@event
class BlockList:
    """19: every user you block, in the order of their numbers (none: an empty list)."""

    users: tuple[str, ...]


@event
class RegisterInvite:
    """20: ask for a new account with a one-time invite code from the server's operator."""

    code: str


@event
class SetName:
    """21: my display name is now `name`."""

    name: str


@event
class Name:
    """22: `user`'s display name is `name`."""

    user: str
    name: str


@event
class GroupChange:
    """23: change `group` (op: GroupOp); (group, you, ts) is its key."""

    group: str
    ts: int
    op: str
    arg: str


@event
class GroupEvent:
    """24: `actor` changed `group` (op: GroupOp) by the 23 with this ts."""

    group: str
    ts: int
    actor: str
    op: str
    arg: str


@event
class Info:
    """25: who got and read my message to `group` with this ts?"""

    group: str
    ts: int


@event
class InfoAnswer:
    """26: per other member of `group`, (member, delivered at, read at) for my message ts;
    a time 0 is "not yet"."""

    group: str
    ts: int
    states: tuple[tuple[str, int, int], ...]


@event
class Typing:
    """27: src is typing in dst (to the server: src is you; dst a user or a group)."""

    src: str
    dst: str


@event
class Privacy:
    """28: hide (1) or share (0) my last seen and online; answered by my own 30."""

    hidden: int


@event
class PresenceAsk:
    """29: is user online, or when were they last seen?"""

    user: str


@event
class Presence:
    """30: user is online (ts ONLINE), hidden from you (ts HIDDEN), or was last seen at ts."""

    user: str
    ts: int


ONLINE = 0
"""The ts of a 30 for someone online now."""
HIDDEN = 9_999_999_999
"""The ts of a 30 for someone whose presence you may not see (privacy, block, no chat)."""


@event
class _ActFields:
    """What 31 and 32 hold: one layout (codec._ACT_FIELDS), so a 32 relays its 31."""

    src: str
    dst: str
    ts: int
    kind: str
    ref_src: str
    ref_ts: int
    text: str


@event
class Act(_ActFields):
    """31: a reply, edit, deletion or reaction (kind) by src in the chat dst, about the
    message (ref_src, that chat, ref_ts); (src, dst, ts) is its own key."""


@event
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
