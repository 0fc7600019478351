"""The SQL of the hot paths, written once, run with parameters through peewee's execute_sql.

Why not peewee's query builder here: building the SQL of a query took about 65%
of the server's CPU under the 1:1 benchmark (bench/README.md, "Profile"), while
SQLite itself took 2%. These statements are the ones every message runs; the
rest of the store keeps the query builder. Names come from the models, and the
placeholder from the database (`?` for SQLite, `%s` for PostgreSQL), so the
text is right for either.

Writes of many rows (a loop iteration's keys, entries and deletions) are one
statement per kind: on SQLite one statement of one row, which writes.py runs as
INSERTs of many rows, or stepped per row (executemany: no round trip to save,
the database is in process) for the DELETE, on
PostgreSQL one statement whose parameters are arrays, a column each, since
psycopg2's executemany is a round trip per row. The hot statements of
PostgreSQL are prepared on each connection (prepared.py): their fields here
are `EXECUTE name(...)`, their bodies in `definitions`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import peewee

from interzap_server.storage.models import (
    AccountChange,
    Block,
    Contact,
    Entry,
    GroupReceipt,
    Heartbeat,
    Member,
    MessageKey,
    QueueHead,
    ReadMark,
    Seen,
    User,
)
from interzap_server.storage.prepared import Prepared
from interzap_server.storage.wakeups import CHANNEL

RECEIPT_FIELDS = (GroupReceipt.group, GroupReceipt.src, GroupReceipt.ts, GroupReceipt.member,
                  GroupReceipt.delivered)
"""The columns of add_receipts, in order; add_read_receipts adds `read`."""


@dataclass(frozen=True, slots=True)
class Statements:
    in_process: bool  # SQLite: a statement per row costs no round trip (executemany)
    user_exists: str
    token_hash: str
    group_members: str
    key_known: str
    add_keys: str  # PostgreSQL, arrays (dst, src, ts, accepted): the new keys returned
    add_new_keys: str  # PostgreSQL, the same arrays of keys known to be new: nothing returned
    add_key: str  # one row, without RETURNING: the row count tells
    savepoint: str
    rollback_to: str
    release: str
    enqueue: str  # (user, seq, frame, src, dst, ts): one row, or arrays on PostgreSQL
    enqueue_frames: str  # (user, seq, frame), entries without a key: one row, or arrays
    # presence (presence.py): written and read at every login and departure
    presence_upsert: str  # (user, online, seen, hidden for a new row, node)
    presence_of: str  # online, seen, hidden, the heartbeat of its node, the database's clock
    sharing: str  # (me, me, me): co-members of my groups, and who sent me messages kept
    marks_between: str  # (me, me): the read marks I keep or am kept in, as (author, dst)
    add_contact: str  # a pair's first 1:1 message (names.py): (low, high), known: nothing
    add_receipts: str  # RECEIPT_FIELDS: one row, or arrays; one already there is left as it is
    add_read_receipts: str  # the same and `read`, for receipts read in their transaction
    dequeue: str  # (user, seq): one row, or arrays on PostgreSQL
    drop_copy: str
    copies_left: str
    queue_length: str
    last_seq: str
    next_seq: str
    queued: str
    blocks: str
    last_change: str
    changes: str
    census: str
    last_queue: str
    queued_to_heads: str  # PostgreSQL, shared: queued of many users, with their heads
    # PostgreSQL's, for nodes sharing the database (docs/SCALING.md)
    notify: str  # one NOTIFY per payload, the payloads as one array
    lock_head: str  # goes before queue_length: the user's head row locked, then counted
    lock_key: str  # goes before drop_copy of a group message: its 12s take turns
    lock_marks: str  # goes before reading the read marks of (dst, author)
    make_heads: str  # goes before lock_heads: the heads of existing users made if missing
    lock_heads: str  # goes before fetch_heads: the heads locked in user order
    fetch_heads: str  # per user: head, queue length, may be sent to, which senders it blocks,
    # which keys (src, ts) of the iteration's 05s to it are known
    write_heads: str  # arrays (user, seq)
    heads_of: str  # the sweep: the heads of an array of users
    # presence across servers (presence.py): heartbeats, and the users of a server found dead
    presence_left: str  # (seen, user, node): offline, if the row still names this server
    beat: str  # (origin, seconds): its heartbeat moved on; 0 rows if none, or older than that
    first_beat: str  # (origin)
    revive: str  # (origin): its users marked offline while it was taken for dead, online
    all_offline: str  # the only server, at start: last seen at their server's last heartbeat
    reap: str  # PostgreSQL (seconds, origin): another server's heartbeat older than that, locked
    reaped: str  # PostgreSQL (heartbeat, origin, origin, limit): some of its users, offline
    buried: str  # (origin): a dead server's heartbeat, once its users are all offline
    definitions: tuple[str, ...]  # PostgreSQL: the PREPAREs of each connection (prepared.py)


def prepare(db: peewee.Database) -> Statements:
    """The statements for `db`, with its placeholder and quoting."""
    p = db.param

    def q(name: str) -> str:
        return name.join(db.quote)  # db.quote is the pair of quote characters, '""'

    user, member = q(User._meta.table_name), q(Member._meta.table_name)
    key, queue = q(MessageKey._meta.table_name), q(Entry._meta.table_name)
    head = q(QueueHead._meta.table_name)
    seen, beats = q(Seen._meta.table_name), q(Heartbeat._meta.table_name)
    node, origin, alive = q("node"), q("origin"), q("alive")
    clock = ("CAST(strftime('%s', 'now') AS INTEGER)" if isinstance(db, peewee.SqliteDatabase)
             else "CAST(FLOOR(EXTRACT(EPOCH FROM statement_timestamp())) AS BIGINT)")
    block = q(Block._meta.table_name)
    changes = q(AccountChange._meta.table_name)
    who, seq = q("user"), q("seq")
    of_key = f"{q('dst')} = {p} AND {q('src')} = {p} AND {q('ts')} = {p}"
    key_columns = f"{q('dst')}, {q('src')}, {q('ts')}"
    known_key = f" ON CONFLICT ({key_columns}) DO NOTHING"
    frame_columns = f"{who}, {seq}, {q('frame')}"
    entry_columns = f"{frame_columns}, {q('src')}, {q('dst')}, {q('ts')}"
    receipt_columns = ", ".join(q(field.column_name) for field in RECEIPT_FIELDS)
    receipts = q(GroupReceipt._meta.table_name)
    hot = _prepared(q, frame_columns, entry_columns, receipt_columns)
    in_process = isinstance(db, peewee.SqliteDatabase)
    return Statements(
        in_process=in_process,
        # a disabled account is no one to send to (13/05), but still logs in to hear 13/22
        user_exists=f"SELECT 1 FROM {user} WHERE {q('id')} = {p} AND {q('disabled')} IS NULL",
        token_hash=(f"SELECT {q('token_hash')}, {q('disabled')} FROM {user} "
                    f"WHERE {q('id')} = {p}"),
        group_members=(f"SELECT {q('user_id')} FROM {member} WHERE {q('group_id')} = {p} "
                       f"ORDER BY {q('position')}"),
        key_known=f"SELECT 1 FROM {key} WHERE {of_key}",
        add_keys=hot["add_keys"].call,
        add_new_keys=hot["add_new_keys"].call,
        add_key=(f"INSERT INTO {key} ({key_columns}, {q('accepted')}) "
                 f"VALUES ({p}, {p}, {p}, {p}){known_key}"),
        savepoint=f"SAVEPOINT {q('keys')}",
        rollback_to=f"ROLLBACK TO SAVEPOINT {q('keys')}",
        release=f"RELEASE SAVEPOINT {q('keys')}",
        enqueue=(f"INSERT INTO {queue} ({entry_columns}) VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
                 if in_process else hot["enqueue"].call),
        enqueue_frames=(f"INSERT INTO {queue} ({frame_columns}) VALUES ({p}, {p}, {p})"
                        if in_process else hot["enqueue_frames"].call),
        presence_upsert=(f"INSERT INTO {seen} ({who}, {q('online')}, {q('seen')}, "
                         f"{q('hidden')}, {node}) VALUES ({p}, {p}, {p}, {p}, {p}) "
                         f"ON CONFLICT ({who}) DO UPDATE SET "
                         f"{q('online')} = excluded.{q('online')}, "
                         f"{q('seen')} = excluded.{q('seen')}, {node} = excluded.{node}"),
        presence_of=(f"SELECT s.{q('online')}, s.{q('seen')}, s.{q('hidden')}, h.{alive}, "
                     f"{clock} FROM {seen} AS s LEFT JOIN {beats} AS h "
                     f"ON h.{origin} = s.{node} WHERE s.{who} = {p}"),
        sharing=(f"SELECT b.{q('user_id')} FROM {member} AS a JOIN {member} AS b "
                 f"ON b.{q('group_id')} = a.{q('group_id')} "
                 f"WHERE a.{q('user_id')} = {p} AND b.{q('user_id')} <> {p} "
                 f"UNION SELECT {q('src')} FROM {key} WHERE {q('dst')} = {p}"),
        marks_between=(f"SELECT {q('author')}, {q('dst')} FROM {q(ReadMark._meta.table_name)} "
                       f"WHERE {q('dst')} = {p} OR {q('author')} = {p}"),
        add_contact=(f"INSERT INTO {q(Contact._meta.table_name)} ({q('low')}, {q('high')}) "
                     f"VALUES ({p}, {p}) ON CONFLICT DO NOTHING"),
        add_receipts=(f"INSERT INTO {receipts} ({receipt_columns}) "
                      f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING"
                      if in_process else hot["add_receipts"].call),
        add_read_receipts=(f"INSERT INTO {receipts} ({receipt_columns}, {q('read')}) "
                           f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING"
                           if in_process else hot["add_read_receipts"].call),
        dequeue=(f"DELETE FROM {queue} WHERE {who} = {p} AND {seq} = {p}" if in_process
                 else hot["dequeue"].call),
        # a 06 the store does not remember: found among its recipient's own entries
        drop_copy=f"DELETE FROM {queue} WHERE {who} = {p} AND {of_key}",
        copies_left=(f"SELECT COUNT(*) FROM {queue} WHERE {who} IN "
                     f"(SELECT {q('user_id')} FROM {member} WHERE {q('group_id')} = {p}) "
                     f"AND {of_key}"),
        queue_length=(f"SELECT COUNT(*) FROM (SELECT 1 FROM {queue} "
                      f"WHERE {who} = {p} LIMIT {p}) AS owed"),
        last_seq=f"SELECT COALESCE(MAX({seq}), 0) FROM {queue} WHERE {who} = {p}",
        # shared: the head row is locked until commit, so writers to one queue take turns
        next_seq=(f"INSERT INTO {head} ({who}, {seq}) VALUES ({p}, 1) "
                  f"ON CONFLICT ({who}) DO UPDATE SET {seq} = {head}.{seq} + 1 "
                  f"RETURNING {seq}"),
        queued=(f"SELECT {seq}, {q('frame')}, {q('src')}, {q('dst')}, {q('ts')} FROM {queue} "
                f"WHERE {who} = {p} AND {seq} > {p} ORDER BY {seq} LIMIT {p}"),
        # per user: its head, then an entry (or empty columns if none); no row without a
        # head; users, then cursors as two arrays, then the limit of each user's entries
        queued_to_heads=(f"SELECT h.{who}, h.{seq}, e.* "
                         f"FROM unnest({p}::bigint[], {p}::bigint[]) AS a(n, c) "
                         f"JOIN {head} AS h ON h.{who} = a.n LEFT JOIN LATERAL "
                         f"(SELECT {seq}, {q('frame')}, {q('src')}, {q('dst')}, {q('ts')} "
                         f"FROM {queue} WHERE {who} = a.n AND {seq} > a.c "
                         f"ORDER BY {seq} LIMIT {p}) AS e ON TRUE ORDER BY a.n, e.{seq}"),
        # a 1:1 message's block check when the caches are off (shared databases)
        blocks=(f"SELECT 1 FROM {block} "
                f"WHERE {q('blocker')} = {p} AND {q('blocked')} = {p}"),
        # the operator's changes (accounts.py): a range of the primary key, once a second
        last_change=f"SELECT COALESCE(MAX({q('id')}), 0) FROM {changes}",
        changes=(f"SELECT {q('id')}, {q('user')}, {q('kind')}, {q('at')} FROM {changes} "
                 f"WHERE {q('id')} > {p} ORDER BY {q('id')}"),
        # the queue census (census.py): a range of users, then the last user with a queue
        census=(f"SELECT {who}, COUNT(*) FROM {queue} WHERE {who} >= {p} AND {who} < {p} "
                f"GROUP BY {who}"),
        last_queue=f"SELECT COALESCE(MAX({who}), 0) FROM {queue}",
        notify=hot["notify"].call,
        # each a statement of its own, sent with the next in one round trip: under read
        # committed the next takes its snapshot after the lock is granted, and so sees
        # what the lock's last holder committed
        lock_head=(f"INSERT INTO {head} ({who}, {seq}) VALUES ({p}, 0) "
                   f"ON CONFLICT ({who}) DO NOTHING; "
                   f"SELECT 1 FROM {head} WHERE {who} = {p} FOR UPDATE; "),
        lock_key=f"SELECT 1 FROM {key} WHERE {of_key} FOR UPDATE; ",
        lock_marks=f"SELECT pg_advisory_xact_lock({p}, {p}); ",
        # an iteration's 1:1 recipients and 07 authors at once (heads.py): the heads of
        # existing users made (those the node saw no head for), then locked in user order
        # (no two nodes wait in a cycle), then read under those locks, in a snapshot
        # taken after them; ([missing],) (users,), then fetch_heads' (counted, limit,
        # senders, users, and the keys as dsts, srcs, stamps)
        make_heads=f"{hot['make_heads'].call}; ",
        lock_heads=f"{hot['lock_heads'].call}; ",
        fetch_heads=hot["fetch_heads"].call,
        write_heads=hot["write_heads"].call,
        heads_of=f"SELECT {who}, {seq} FROM {head} WHERE {who} = ANY({p}::bigint[])",
        # presence across servers (presence.py): a row names the server holding the user
        presence_left=(f"UPDATE {seen} SET {q('online')} = FALSE, {q('seen')} = {p}, "
                       f"{node} = NULL WHERE {who} = {p} AND {node} = {p}"),
        beat=(f"UPDATE {beats} SET {alive} = {clock} "
              f"WHERE {origin} = {p} AND {alive} >= {clock} - {p}"),
        first_beat=(f"INSERT INTO {beats} ({origin}, {alive}) VALUES ({p}, {clock}) "
                    f"ON CONFLICT ({origin}) DO UPDATE SET {alive} = excluded.{alive}"),
        revive=(f"UPDATE {seen} SET {q('online')} = TRUE "
                f"WHERE {node} = {p} AND NOT {q('online')} RETURNING {who}"),
        # the later of the user's login and their server's last heartbeat, else now
        all_offline=(f"UPDATE {seen} SET {q('online')} = FALSE, {node} = NULL, {q('seen')} = "
                     f"COALESCE((SELECT CASE WHEN h.{alive} > {seen}.{q('seen')} "
                     f"THEN h.{alive} ELSE {seen}.{q('seen')} END FROM {beats} AS h "
                     f"WHERE h.{origin} = {seen}.{node}), {clock}) WHERE {q('online')}"),
        # SKIP LOCKED: of the live servers looking at once, one takes each dead one
        reap=(f"SELECT {origin}, {alive} FROM {beats} WHERE {alive} < {clock} - {p} "
              f"AND {origin} <> {p} LIMIT 1 FOR UPDATE SKIP LOCKED"),
        # the node and online tested on the row updated too: a login elsewhere meanwhile
        # (its row then names that node) is seen when the lock it waited for is granted
        reaped=(f"UPDATE {seen} SET {q('online')} = FALSE, "
                f"{q('seen')} = GREATEST({q('seen')}, {p}) "
                f"WHERE {node} = {p} AND {q('online')} AND {who} IN (SELECT {who} FROM {seen} "
                f"WHERE {node} = {p} AND {q('online')} LIMIT {p}) RETURNING {who}, {q('seen')}"),
        buried=f"DELETE FROM {beats} WHERE {origin} = {p}",
        definitions=tuple(statement.definition for statement in hot.values()),
    )


def _prepared(q: Callable[[str], str], frame_columns: str, entry_columns: str,
              receipt_columns: str) -> dict[str, Prepared]:
    """PostgreSQL's statements of the message path, by name (prepared.py): each per-user
    lookup a correlated subquery or `= ANY` on a primary key, so that their generic plans
    are index probes on tables of any size."""
    key, queue = q(MessageKey._meta.table_name), q(Entry._meta.table_name)
    head, user = q(QueueHead._meta.table_name), q(User._meta.table_name)
    receipts = q(GroupReceipt._meta.table_name)
    who, seq = q("user"), q("seq")
    key_columns = f"{q('dst')}, {q('src')}, {q('ts')}"
    add_keys = (f"INSERT INTO {key} ({key_columns}, {q('accepted')}) "
                f"SELECT * FROM unnest({_arrays(4)})")
    bodies = {
        # a known key inserts nothing and so is not returned: what is returned is new
        "add_keys": (f"{add_keys} ON CONFLICT ({key_columns}) DO NOTHING "
                     f"RETURNING {key_columns}"),
        # keys a node looked for under their recipients' locks (heads.py): a conflict
        # would be a flaw of those locks, and fails the batch
        "add_new_keys": add_keys,
        "enqueue": (f"INSERT INTO {queue} ({entry_columns}) SELECT * FROM "
                    f"unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], "
                    f"$5::bigint[], $6::bigint[])"),
        "enqueue_frames": (f"INSERT INTO {queue} ({frame_columns}) SELECT * FROM "
                           f"unnest($1::bigint[], $2::bigint[], $3::text[])"),
        "add_receipts": (f"INSERT INTO {receipts} ({receipt_columns}) "
                         f"SELECT * FROM unnest({_arrays(5)}) ON CONFLICT DO NOTHING"),
        "add_read_receipts": (f"INSERT INTO {receipts} ({receipt_columns}, {q('read')}) "
                              f"SELECT * FROM unnest({_arrays(6)}) ON CONFLICT DO NOTHING"),
        "dequeue": (f"DELETE FROM {queue} WHERE ({who}, {seq}) IN "
                    f"(SELECT * FROM unnest({_arrays(2)}))"),
        "notify": f"SELECT pg_notify('{CHANNEL}', said) FROM unnest($1::text[]) AS said",
        "make_heads": (f"INSERT INTO {head} ({who}, {seq}) SELECT {q('id')}, 0 FROM {user} "
                       f"WHERE {q('id')} = ANY($1::bigint[]) ORDER BY {q('id')} "
                       f"ON CONFLICT ({who}) DO NOTHING"),
        "lock_heads": (f"SELECT 1 FROM {head} WHERE {who} = ANY($1::bigint[]) "
                       f"ORDER BY {who} FOR UPDATE"),
        # per user: head, queue length, may be sent to, which senders it blocks, which keys
        # of the iteration's 05s to it are known (src, ts); no join
        # with the array and no EXISTS, which a generic plan may make a hash of a whole table
        "fetch_heads": (f"SELECT a.n, (SELECT {seq} FROM {head} WHERE {who} = a.n), "
                        f"CASE WHEN a.n = ANY($1::bigint[]) THEN "
                        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {queue} WHERE {who} = a.n "
                        f"LIMIT $2::bigint) AS owed) END, "
                        f"COALESCE((SELECT {q('disabled')} IS NULL FROM {user} "
                        f"WHERE {q('id')} = a.n), FALSE), "
                        f"ARRAY(SELECT {q('blocked')} FROM {q(Block._meta.table_name)} "
                        f"WHERE {q('blocker')} = a.n AND {q('blocked')} = ANY($3::bigint[])), "
                        # which of the 05s' keys to it are known: (dst, src, ts) as three
                        # arrays, each one looked for by its primary key
                        f"ARRAY(SELECT ARRAY[m.s, m.t] FROM unnest($5::bigint[], $6::bigint[], "
                        f"$7::bigint[]) AS m(d, s, t) WHERE m.d = a.n AND (SELECT 1 FROM {key} "
                        f"WHERE {q('dst')} = m.d AND {q('src')} = m.s AND {q('ts')} = m.t) "
                        f"IS NOT NULL) "
                        f"FROM unnest($4::bigint[]) AS a(n)"),
        # the heads named by = ANY, an index scan, rather than joined with the array only
        "write_heads": (f"UPDATE {head} AS h SET {seq} = v.{seq} "
                        f"FROM unnest({_arrays(2)}) AS v(n, {seq}) "
                        f"WHERE h.{who} = v.n AND h.{who} = ANY($1::bigint[])"),
    }
    return {name: Prepared(name, body) for name, body in bodies.items()}


def _arrays(count: int) -> str:
    """$1::bigint[], ... $count::bigint[]."""
    return ", ".join(f"${n}::bigint[]" for n in range(1, count + 1))
