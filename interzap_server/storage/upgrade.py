"""Bringing a database made by an earlier version up to the current tables, in place.

Until session 4 (bench/README.md) message keys lived in `message`, peers as
text and a rowid of their own, and the queue in `pending`, under one global
AUTOINCREMENT id, its 06s pointing at a key's rowid. At start, if `pending`
is there, both are copied into `message_key` and `queue` (docs/STORAGE.md)
and dropped, in one transaction: a crash in the middle leaves the old tables
as they were, to be copied again at the next start. An entry keeps its old
id as its seq: the ids grew in the order the server made the frames, so each
user's entries keep their order.

Until session 6 there were no display names, group names nor admins: the
columns `user.name`, `chat_group.name` and `member.admin` are added where
missing (each group's creator, position 0, becomes its admin), and the new
`contact` table, while empty, is filled from the message keys still kept, so
that two people who talked lately learn each other's names (PROTOCOL.md 5.9).
Since issue 19, `user.disabled` and `user.last_login` are added the same way, and since
session 8 `presence.node` (the server holding a user, storage/presence.py) with its index.
Since session 10 `message_key` has no index on `accepted` (expiry.py): it is dropped.

Runs once per start, before the store takes over; knows the old tables' SQL,
the models and the runner; knows no rules.
"""

from interzap_server.storage.models import (
    Contact,
    Entry,
    Group,
    Member,
    MessageKey,
    QueueHead,
    Seen,
    User,
)
from interzap_server.storage.runner import Row, Runner
from shared.ids import is_group_id, number_of

OLD_KEYS = "message"
OLD_QUEUE = "pending"
CHUNK = 500
"""Rows per INSERT while copying."""
NODE_INDEX = "presence_node"
"""The index of presence rows by the server holding the user (_index_nodes)."""


def upgrade(runner: Runner, shared: bool) -> None:
    """Copy the old tables, if any, into the new; for servers sharing the database, make
    sure every queue's head is at least its last seq (writers of each kind, one after the
    other, may have run on it). Runs inside the caller's transaction, which holds the
    lock that makes other starting servers wait (storage/__init__.py): so a crash in the
    middle leaves the old tables as they were, and a second server finds them gone."""
    db = runner.db
    if OLD_QUEUE in db.get_tables():
        _copy_old_tables(runner)
    _add_columns(runner)
    _index_nodes(runner)
    _drop_accepted_index(runner)
    _seed_contacts(runner)
    if shared:
        q = db.quote
        head, queue = QueueHead._meta.table_name.join(q), Entry._meta.table_name.join(q)
        user, seq = "user".join(q), "seq".join(q)
        runner.run(f"INSERT INTO {head} ({user}, {seq}) "
                   f"SELECT {user}, MAX({seq}) FROM {queue} WHERE 1 = 1 GROUP BY {user} "
                   f"ON CONFLICT ({user}) DO UPDATE SET {seq} = excluded.{seq} "
                   f"WHERE {head}.{seq} < excluded.{seq}")


NEW_COLUMNS = (
    (User, "name", "TEXT", None),
    (Group, "name", "TEXT", None),
    (Member, "admin", "BOOLEAN NOT NULL DEFAULT FALSE", '"position" = 0'),
    (User, "disabled", "BIGINT", None),  # interzap-admin disable (issue 19)
    (User, "last_login", "BIGINT", None),  # interzap-admin users (issue 19)
    (Seen, "node", "TEXT", None),  # the server holding the user (presence.py)
)
"""Columns added since session 5: (model, column, its type, which rows then get TRUE)."""


def _add_columns(runner: Runner) -> None:
    db = runner.db
    for model, column, kind, true_where in NEW_COLUMNS:
        table = model._meta.table_name
        if column in {c.name for c in db.get_columns(table)}:
            continue
        quoted, name = table.join(db.quote), column.join(db.quote)
        runner.run(f"ALTER TABLE {quoted} ADD COLUMN {name} {kind}")
        if true_where is not None:
            runner.run(f"UPDATE {quoted} SET {name} = TRUE WHERE {true_where}")


def _index_nodes(runner: Runner) -> None:
    """The users a server holds, or held when it was found dead, by its origin (presence.py);
    made here, not in the model, since on an old table the column is new. Only rows that
    name a server: a user who left names none. Looked for first: a CREATE INDEX, even one
    that exists, would lock the table against the running servers' logins."""
    db, table = runner.db, Seen._meta.table_name
    if NODE_INDEX in {index.name for index in db.get_indexes(table)}:
        return
    q = db.quote
    runner.run(f"CREATE INDEX {NODE_INDEX.join(q)} ON {table.join(q)} ({'node'.join(q)}) "
               f"WHERE {'node'.join(q)} IS NOT NULL")


def _drop_accepted_index(runner: Runner) -> None:
    """The index on message_key.accepted that sessions 5 to 9 made: every key paid for it,
    and prune() walks the primary key instead (expiry.py). Looked for first, as above."""
    db, table = runner.db, MessageKey._meta.table_name
    for index in db.get_indexes(table):
        if index.columns == ["accepted"]:
            runner.run(f"DROP INDEX {index.name.join(db.quote)}")


def _seed_contacts(runner: Runner) -> None:
    """Fill an empty contact table from the 1:1 keys kept (a user's dst is positive)."""
    q = runner.db.quote
    contact, keys = Contact._meta.table_name.join(q), MessageKey._meta.table_name.join(q)
    if runner.one(f"SELECT 1 FROM {contact} LIMIT 1") is not None:
        return
    runner.run(f"INSERT INTO {contact} ({'low'.join(q)}, {'high'.join(q)}) "
               f"SELECT DISTINCT CASE WHEN src < dst THEN src ELSE dst END, "
               f"CASE WHEN src < dst THEN dst ELSE src END FROM {keys} "
               f"WHERE dst > 0 AND src <> dst")


def _copy_old_tables(runner: Runner) -> None:
    q = runner.db.quote
    keys, queue = OLD_KEYS.join(q), OLD_QUEUE.join(q)
    old_keys = runner.rows(f"SELECT dst, src, ts, accepted FROM {keys}")
    _insert(runner, MessageKey, [(_number(dst), number_of(src), ts, accepted)
                                 for dst, src, ts, accepted in old_keys])
    old_entries = runner.rows(f"SELECT p.recipient, p.id, p.frame, m.src, m.dst, m.ts "
                              f"FROM {queue} p LEFT JOIN {keys} m ON m.id = p.message_id")
    _insert(runner, Entry, [_entry(row) for row in old_entries])
    runner.run(f"DROP TABLE {queue}")
    runner.run(f"DROP TABLE {keys}")


def _number(ident: str) -> int:
    return -number_of(ident) if is_group_id(ident) else number_of(ident)


def _entry(row: Row) -> tuple[object, ...]:
    recipient, seq, frame, src, dst, ts = row
    if src is None:
        return (recipient, seq, frame, None, None, None)
    return (recipient, seq, frame, number_of(src), _number(dst), ts)


def _insert(runner: Runner, model: type[MessageKey] | type[Entry],
            rows: list[tuple[object, ...]]) -> None:
    fields = list(model._meta.sorted_fields)
    for start in range(0, len(rows), CHUNK):
        runner.execute(model.insert_many(rows[start:start + CHUNK], fields=fields))
