"""Frame codes, error codes and the field widths of the wire format (PROTOCOL.md, "Frames").

Numbers and fixed words only; what a frame holds is described by the layout
table in codec.py.
"""

from enum import IntEnum, StrEnum

DEFAULT_PORT = 9070
"""The TCP port a server listens on and a client connects to unless told otherwise."""
GREETING = "Interzap/1"
"""The text of the 00 every connection starts with: the protocol's name and version."""
CODE_WIDTH = 2
"""Every frame starts with its type code as two ASCII digits."""
ID_WIDTH = 13
"""User ids (`Client-000001`) and group ids (`Group-0000001`) are exactly this long."""
TOKEN_WIDTH = 32
"""A login token: 32 lowercase hex characters (128 random bits)."""
TS_WIDTH = 10
"""A timestamp: Unix seconds as exactly 10 ASCII digits."""
MAX_TEXT = 218
"""Longest message text, in code points."""
MAX_FRAME = 1024
"""Longest frame content in bytes, without the LF (and without a CR just before it)."""
MIN_GROUP_MEMBERS = 1
"""A 10 (create group) lists at least this many members besides the creator."""
MAX_GROUP_MEMBERS = 8
"""... and at most this many, so a group has 2 to 9 people."""
INVITE_WIDTH = 16
"""An invite code (frame 20): exactly this many characters of INVITE_ALPHABET."""
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""The characters of an invite code: digits and capital letters without 0, 1, I, L and O,
which are easily read as one another (31 characters: 16 of them hold 79 random bits)."""
MAX_NAME = 32
"""Longest display name or group name, in code points (21, 22, 23, 24)."""
EDIT_WINDOW = 15 * 60
"""Seconds after sending during which the author may edit a message (31 kind E, 5.11)."""
DELETE_WINDOW = 48 * 3600
"""Seconds after sending during which the author may delete a message for everyone (kind D)."""
TOMBSTONE = "this message was deleted"
"""The text a still-queued 06 of a deleted message is delivered with instead of its own (5.11)."""


class FrameCode(IntEnum):
    """The two-digit type code at the start of every frame."""

    GREETING = 0
    """s→c `00<text>`: first frame on every connection."""
    REGISTER = 1
    """c→s `01`: ask for a new account."""
    REGISTERED = 2
    """s→c `02<id><token>`: the new account; the connection is logged in as it."""
    LOGIN = 3
    """c→s `03<id><token>`: log in."""
    LOGGED_IN = 4
    """s→c `04<id>`: logged in; the queued frames follow."""
    SEND = 5
    """c→s `05<src><dst><ts><text>`: a message to a user or a group."""
    DELIVER = 6
    """s→c `06<src><dst><ts><text>`: a message for you."""
    DELIVERED = 7
    """s→c `07<dst><ts>`: your message reached the recipient's client (second tick)."""
    READ = 8
    """c→s `08<peer><ts>`: I have read what peer sent me up to ts."""
    READ_NOTICE = 9
    """s→c `09<peer><ts>`: your messages up to ts have been read (blue ticks)."""
    CREATE_GROUP = 10
    """c→s `10<creator><ts><member>...`: create a group."""
    GROUP_CREATED = 11
    """s→c `11<group><ts><creator><member>...`: a group you are in."""
    RECEIPT = 12
    """c→s `12<src><dst><ts>`: my client has stored that 06."""
    ERROR = 13
    """s→c `13<code><reason>`: your last frame was refused."""
    PING = 14
    """both `14`: are you there? Answer with 15."""
    PONG = 15
    """both `15`: the answer to 14; never answered."""
    ACCEPTED = 16
    """s→c `16<dst><ts>`: your 05 is committed to the database (first tick)."""
    BLOCK = 17
    """c→s `17<user>`: block user: their 1:1 messages are no longer delivered to you."""
    UNBLOCK = 18
    """c→s `18<user>`: unblock user: their later messages are delivered again."""
    BLOCK_LIST = 19
    """s→c `19<user>...`: the users you block, zero or more: the answer to 17 and 18."""
    REGISTER_INVITE = 20
    """c→s `20<code>`: ask for a new account with a one-time invite code; answered like 01."""
    SET_NAME = 21
    """c→s `21<name>`: my display name is now name (the same name again changes nothing)."""
    NAME = 22
    """s→c `22<user><name>`: user's display name (queued to those who share a chat with them)."""
    GROUP_CHANGE = 23
    """c→s `23<group><ts><op><arg>`: rename, add, remove, promote, demote or leave."""
    GROUP_EVENT = 24
    """s→c `24<group><ts><actor><op><arg>`: a change of the group, queued to its members."""
    INFO = 25
    """c→s `25<group><ts>`: who got and read my message with this ts in that group?"""
    INFO_ANSWER = 26
    """s→c `26<group><ts><member><delivered><read>...`: the answer to 25, per other member."""
    TYPING = 27
    """both `27<src><dst>`: src is typing in dst (a user or a group); ephemeral, never stored."""
    PRIVACY = 28
    """c→s `28<flag>`: 1 hides my last seen and online (and shows me nobody's), 0 shares it."""
    PRESENCE_ASK = 29
    """c→s `29<user>`: is user online, or when were they last seen? Answered by 30."""
    PRESENCE = 30
    """s→c `30<user><ts>`: user is online (ts 0), hidden (9999999999), or was last seen at ts."""
    ACT = 31
    """c→s `31<src><dst><ts><kind><ref-src><ref-ts><text>`: reply, edit, delete or react."""
    ACTED = 32
    """s→c `32<src><dst><ts><kind><ref-src><ref-ts><text>`: a 31 for you; answer with 12."""


class ErrorCode(IntEnum):
    """The two-digit code of a 13 (error) frame."""

    MALFORMED = 1
    """Unknown code, wrong length, a bad field, invalid UTF-8, or a server-only code."""
    TOO_LONG = 2
    """More than MAX_FRAME bytes without an LF; everything up to the next LF is dropped."""
    NOT_LOGGED_IN = 3
    """Only 01, 03 and 14 are allowed before logging in."""
    BAD_CREDENTIALS = 4
    """Unknown id or wrong token (the two are not told apart)."""
    UNKNOWN_PEER = 5
    """No such recipient, group or member."""
    NOT_YOU = 6
    """The sender or creator field is not the logged-in id."""
    NOT_A_MEMBER = 7
    """You are not a member of that group."""
    INVALID_GROUP = 8
    """No member, more than eight, a duplicate, or the creator listed as a member."""
    INVALID_TEXT = 9
    """Empty, longer than MAX_TEXT code points, or holding a control character."""
    RATE_LIMITED = 10
    """Too many frames too fast."""
    ALREADY_LOGGED_IN = 11
    """01 or 03 on a connection that is already logged in."""
    REPLACED = 12
    """You logged in from another connection; this one is closed."""
    SERVER_FULL = 13
    """The server has as many connections as it allows; this one is closed."""
    QUEUE_FULL = 14
    """The recipient has too many undelivered frames; the 05 was not accepted, try later."""
    TIMEOUT = 15
    """No login within the login timeout, or no answer to a ping; the connection is closed."""
    TOO_MANY_ACCOUNTS = 16
    """A 01 from an address that registered too many accounts lately (--register-burst)."""
    TOO_MANY_CONNECTIONS = 17
    """The address holds too many connections (--max-per-address); this one is closed."""
    TOO_MANY_FAILED_LOGINS = 18
    """A 03 from an address with too many failed logins lately; refused without checking."""
    NOT_PERMITTED = 19
    """A 17 or 18 naming yourself, or a 10 listing someone who does not accept being
    added to a group by you (PROTOCOL.md 5.8: the block itself is not named)."""
    REGISTRATION_CLOSED = 20
    """A 01 on a server that registers by invitation only (--registration invite), or any
    registration on one that takes no new accounts (closed); the reason says what to do."""
    BAD_INVITE = 21
    """A 20 whose code is unknown, already used, or expired; the reason says which."""
    ACCOUNT_DISABLED = 22
    """A 03 with the right token for an account the operator disabled; or, on a logged-in
    connection, the operator disabled it now: the connection is closed."""
    NOT_ADMIN = 23
    """A 23 that only an admin of the group may make (rename, add, remove, promote, demote)."""
    INVALID_NAME = 24
    """A display or group name that is empty, longer than MAX_NAME, holds a control
    character, or looks like an id."""
    GROUP_FULL = 25
    """A 23 adding someone to a group that has MAX_GROUP_MEMBERS + 1 people already."""
    WRONG_MEMBER = 26
    """A 23 naming someone not in the group (remove, promote, demote), already in it
    (add), already an admin (promote) or not one (demote)."""
    NOT_YOUR_MESSAGE = 27
    """A 25 naming no message of yours to that group with that ts (or one forgotten)."""
    NOT_AUTHOR = 29
    """A 31 editing or deleting a message someone else wrote."""
    TOO_LATE = 30
    """A 31 editing (EDIT_WINDOW) or deleting (DELETE_WINDOW) a message sent too long ago."""
    UNKNOWN_MESSAGE = 31
    """A 31 naming a message the server does not know in that chat."""
    INVALID_REACTION = 32
    """A 31 reacting with something that is not one emoji (shared/reactions.py)."""
    INTERNAL = 99
    """The server failed (for a 05: it was NOT accepted; send it again)."""


class GroupOp(StrEnum):
    """The one-letter op of a 23 (group change) and a 24 (group event), and its arg.

    Capitals are changes a member asks for (23) and everyone is told of (24);
    small letters come only in a 24 to a member just added, saying how the group
    stands (its name, each admin), not that anything changed.
    """

    RENAME = "N"
    """arg: the group's new name (1..MAX_NAME characters)."""
    ADD = "A"
    """arg: the user id added."""
    REMOVE = "R"
    """arg: the user id removed."""
    PROMOTE = "P"
    """arg: the user id made an admin (also when the last admin leaves)."""
    DEMOTE = "D"
    """arg: the user id who is no longer an admin."""
    LEAVE = "L"
    """arg: empty; the actor left the group."""
    NAMED = "n"
    """24 only, to a member just added: arg is the group's name."""
    ADMIN = "a"
    """24 only, to a member just added: arg is an admin's id."""


class ActKind(StrEnum):
    """The kind letter of a 31 or 32: what it does to the message it refers to (5.11)."""

    REPLY = "R"
    """A new message (the text) quoting the referred one."""
    EDIT = "E"
    """The referred message's new text; its author only, within EDIT_WINDOW."""
    DELETE = "D"
    """Delete the referred message for everyone (no text); its author only, within
    DELETE_WINDOW."""
    REACT = "X"
    """The sender's reaction to the referred message: one emoji, or no text to take it back."""
