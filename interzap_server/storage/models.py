"""The peewee models: users, groups, members, message keys, the per-user queue, read marks,
blocks, contacts, group changes, presence and the servers' heartbeats, group receipts,
invites and the log of the operator's changes to accounts.

Only the storage package imports this module. Ids on the wire are text
(`Client-000001`); here users and groups are their numbers, a group's negated
where a column holds either (a message's dst). Read marks keep their ids as text:
they are few and off the hot path. Why this shape: docs/STORAGE.md.
"""

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    Database,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class User(BaseModel):
    id = AutoField()
    token_hash = CharField(max_length=64)
    created = BigIntegerField()
    name = TextField(null=True)  # the display name (21), None until one is set
    disabled = BigIntegerField(null=True)  # when the operator disabled it (admin); else NULL
    last_login = BigIntegerField(null=True)  # the last 03 that logged in (interzap-admin users)


class Group(BaseModel):
    id = AutoField()
    creator = ForeignKeyField(User, backref="created_groups")
    ts = BigIntegerField()
    created = BigIntegerField()
    name = TextField(null=True)  # set by a 23 rename; None until then

    class Meta:
        table_name = "chat_group"  # GROUP is an SQL keyword
        indexes = ((("creator", "ts"), True),)


class Member(BaseModel):
    group = ForeignKeyField(Group, backref="members")
    user = ForeignKeyField(User, backref="memberships")
    position = IntegerField()  # 0 is the creator, then the members in the order of the 10,
    # then those added (23) after them; the lowest is the oldest member
    admin = BooleanField(default=False)  # the creator at first; then as 23s say

    class Meta:
        primary_key = CompositeKey("group", "user")


class MessageKey(BaseModel):
    """A key the server accepted, remembered for KEY_MEMORY (PROTOCOL.md 5.2).

    Numbers, not ids: src is a user's number, dst a user's or minus a group's
    (a user and a group may share a number). The key is the whole row and its
    primary key, recipient first: it finds a key, and a recipient's keys for
    read marks. The text lives only in the recipients' queue entries.
    """

    dst = BigIntegerField()
    src = BigIntegerField()
    ts = BigIntegerField()
    accepted = BigIntegerField()  # server time, for forgetting keys after KEY_MEMORY
    # no index on it: prune() walks the primary key a slice at a time (expiry.py)

    class Meta:
        table_name = "message_key"
        primary_key = CompositeKey("dst", "src", "ts")


class Entry(BaseModel):
    """A frame owed to a user (06, 07, 09, 11), numbered in the order the server made it.

    The primary key is the whole address of an entry, (user, seq): the store
    hands out `seq` per user, so an entry costs one B-tree and no id sequence.
    A 06 also carries its message's key (src, dst, ts), which a 12 names; other
    frames leave those empty. No index besides the key: the store finds a 06 by
    its seq when it remembers it, and scans the user's own entries otherwise.
    """

    user = BigIntegerField()
    seq = BigIntegerField()
    frame = TextField()  # the encoded frame, LF included
    src = BigIntegerField(null=True)
    dst = BigIntegerField(null=True)
    ts = BigIntegerField(null=True)

    class Meta:
        table_name = "queue"
        primary_key = CompositeKey("user", "seq")


class QueueHead(BaseModel):
    """The last seq handed out in each user's queue, for servers sharing the database.

    Entries are deleted from the head of a queue as well as the tail, so the
    newest row cannot tell the next number once it is gone; this row can, and
    updating it locks it until commit: two servers writing to one queue take
    turns, and each user's entries commit in seq order (docs/STORAGE.md).
    """

    user = BigIntegerField(primary_key=True)
    seq = BigIntegerField()

    class Meta:
        table_name = "queue_head"


class ReadMark(BaseModel):
    """How far `reader` has read what `author` sent to `dst` (the reader, or a group)."""

    dst = CharField(max_length=13)
    author = CharField(max_length=13)
    reader = CharField(max_length=13)
    ts = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("dst", "author", "reader")


class Block(BaseModel):
    """`blocker` blocks `blocked` (PROTOCOL.md 5.8), both user numbers: the row is the
    fact, and its primary key the whole row."""

    blocker = BigIntegerField()
    blocked = BigIntegerField()

    class Meta:
        table_name = "block"
        primary_key = CompositeKey("blocker", "blocked")


class Contact(BaseModel):
    """Two users who have exchanged a 1:1 message, either way (PROTOCOL.md 5.9): each is
    told the other's display name. User numbers, the smaller first; the row is the key."""

    low = BigIntegerField()
    high = BigIntegerField()

    class Meta:
        table_name = "contact"
        primary_key = CompositeKey("low", "high")


class GroupChange(BaseModel):
    """A 23 the server carried out, kept as its key (group, actor, ts) for a retransmission
    to be answered with the same 24 (PROTOCOL.md 5.10); op and arg as in the frame."""

    group = BigIntegerField()
    actor = BigIntegerField()
    ts = BigIntegerField()
    op = CharField(max_length=1)
    arg = TextField()
    made = BigIntegerField()  # server time

    class Meta:
        table_name = "group_change"
        primary_key = CompositeKey("group", "actor", "ts")


class Invite(BaseModel):
    """A one-time invite code made by the operator (frame 20, `interzap-admin invite`).
    Kept in clear, so that `interzap-admin invites` can show it again: it opens one
    account once, before `expires`, and whoever reads the database can do more."""

    code = CharField(max_length=16, primary_key=True)
    created = BigIntegerField()
    expires = BigIntegerField()
    used = BigIntegerField(null=True)  # when a 20 consumed it
    user = BigIntegerField(null=True)  # the account it opened

    class Meta:
        table_name = "invite"


class AccountChange(BaseModel):
    """What the operator did to an account (disable, reset, delete), for running servers
    to act on (storage/accounts.py): they read the rows past the last id they saw."""

    id = AutoField()
    user = BigIntegerField()
    kind = CharField(max_length=8)
    at = BigIntegerField()

    class Meta:
        table_name = "account_change"


class Seen(BaseModel):
    """A user's presence (PROTOCOL.md 5.14): online now or not, since when, and whether
    they hide it. Written at login and at the end of a connection, never by a message."""

    user = BigIntegerField(primary_key=True)
    online = BooleanField()
    seen = BigIntegerField()  # server time of the last login or logout
    hidden = BooleanField(default=False)
    # the origin of the server holding the user (a Heartbeat's); NULL once they left
    node = TextField(null=True)

    class Meta:
        table_name = "presence"


class Heartbeat(BaseModel):
    """A server process's last sign of life, by the database's clock (storage/presence.py):
    written once a second, so that its users stop counting as online when it dies."""

    origin = TextField(primary_key=True)  # wakeups.py's token of the process; "" alone
    alive = BigIntegerField()

    class Meta:
        table_name = "heartbeat"


class GroupReceipt(BaseModel):
    """When `member` acknowledged (12) and read (08) a group message (PROTOCOL.md 5.12):
    numbers, the group's positive; written by group 12s and 08s only, never by 1:1 ones."""

    group = BigIntegerField()
    src = BigIntegerField()
    ts = BigIntegerField()
    member = BigIntegerField()
    delivered = BigIntegerField()
    read = BigIntegerField(null=True)

    class Meta:
        table_name = "group_receipt"
        primary_key = CompositeKey("group", "src", "ts", "member")


MODELS = (User, Group, Member, MessageKey, Entry, QueueHead, ReadMark, Block, Contact,
          GroupChange, Invite, AccountChange, Seen, Heartbeat, GroupReceipt)

WITHOUT_ROWID = (MessageKey, Entry, Block, Contact, GroupChange, GroupReceipt)
"""Tables whose primary key is the whole table on SQLite (no rowid B-tree beside it);
PostgreSQL has no such option, so use_database() sets it for SQLite only."""


def use_database(db: Database) -> None:
    """Bind the models to `db` and set the options that depend on its kind."""
    database.initialize(db)
    for model in WITHOUT_ROWID:
        model._meta.without_rowid = isinstance(db, SqliteDatabase)
