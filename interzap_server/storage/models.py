"""The peewee models: users, groups, members, message keys, the per-user queue, read marks.

Only the storage package imports this module. Ids on the wire are text
(`Client-000001`); here users and groups are their numbers, messages keep their
peers as text so that a key lookup needs no join.
"""

from typing import Any

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    NodeList,
    SqliteDatabase,
    TextField,
)

database = DatabaseProxy()


class MonotonicAutoField(AutoField):
    """An id that is never handed out twice, even after the newest row is deleted.

    SQLite reuses max(rowid)+1 unless the column says AUTOINCREMENT; a queue
    whose ids went backwards would hide entries from a session's cursor.
    PostgreSQL sequences never go back, so there the plain column is right.
    """

    def ddl(self, ctx: Any) -> Any:
        node = super().ddl(ctx)
        if isinstance(database.obj, SqliteDatabase):
            return NodeList((node, SQL("AUTOINCREMENT")))
        return node


class BaseModel(Model):
    class Meta:
        database = database


class User(BaseModel):
    id = AutoField()
    token_hash = CharField(max_length=64)
    created = BigIntegerField()


class Group(BaseModel):
    id = AutoField()
    creator = ForeignKeyField(User, backref="created_groups")
    ts = BigIntegerField()
    created = BigIntegerField()

    class Meta:
        table_name = "chat_group"  # GROUP is an SQL keyword
        indexes = ((("creator", "ts"), True),)


class Member(BaseModel):
    group = ForeignKeyField(Group, backref="members")
    user = ForeignKeyField(User, backref="memberships")
    position = IntegerField()  # 0 is the creator, then the members in the order of the 10

    class Meta:
        primary_key = CompositeKey("group", "user")


class Message(BaseModel):
    """A key the server accepted; the text lives only in the recipients' queue entries."""

    id = AutoField()
    src = CharField(max_length=13)
    dst = CharField(max_length=13)
    ts = BigIntegerField()
    accepted = BigIntegerField()  # server time, for forgetting keys after KEY_MEMORY

    class Meta:
        # one unique key, recipient first: it finds a key, and a recipient's keys
        # for read marks, so (dst, ts) needs no index of its own (each index is one
        # more B-tree to update per message: bench/README.md, "session 4")
        indexes = (
            (("dst", "src", "ts"), True),
            (("accepted",), False),
        )


class Pending(BaseModel):
    """A frame owed to a user, in the order the server made it (06, 07, 09, 11)."""

    id = MonotonicAutoField()
    recipient = IntegerField()
    # the Message.id this copy is of, or none (09, 11). A plain column, not a
    # foreign key: the check cost a lookup per entry, and nothing needed it, since
    # prune() only forgets keys that no entry points at. No index of its own:
    # (message, recipient) below serves it.
    message = IntegerField(null=True, column_name="message_id")
    frame = TextField()  # the encoded frame, LF included

    class Meta:
        indexes = (
            (("recipient", "id"), False),
            (("message", "recipient"), False),
        )


class ReadMark(BaseModel):
    """How far `reader` has read what `author` sent to `dst` (the reader, or a group)."""

    dst = CharField(max_length=13)
    author = CharField(max_length=13)
    reader = CharField(max_length=13)
    ts = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("dst", "author", "reader")


MODELS = (User, Group, Member, Message, Pending, ReadMark)

OBSOLETE_INDEXES = ("message_src_dst_ts", "message_dst_ts")
"""Indexes of earlier versions that (dst, src, ts) replaced; a database made then drops them."""
