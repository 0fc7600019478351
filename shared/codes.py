"""Frame codes, error codes and the field widths of the wire format (PROTOCOL.md, "Frames").

Numbers and fixed words only; what a frame holds is described by the layout
table in codec.py.
"""

from enum import IntEnum

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
    INTERNAL = 99
    """The server failed (for a 05: it was NOT accepted; send it again)."""
