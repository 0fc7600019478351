"""The SQL of the hot paths, written once, run with parameters through peewee's execute_sql.

Why not peewee's query builder here: building the SQL of a query took about 65%
of the server's CPU under the 1:1 benchmark (bench/README.md, "Profile"), while
SQLite itself took 2%. These statements are the ones every message runs; the
rest of the store keeps the query builder. Names come from the models, and the
placeholder from the database (`?` for SQLite, `%s` for PostgreSQL), so the
text is right for either.

New ids: where the driver reports the new rowid (SQLite's `lastrowid`, as
peewee itself does), an INSERT has no RETURNING clause, which cost SQLite
2-4 us a row (bench/README.md, "session 2"); elsewhere (PostgreSQL) it ends in
RETURNING and the id is read from its row.
"""

from dataclasses import dataclass

import peewee

from interzap_server.storage.models import Member, Message, Pending, User


@dataclass(frozen=True, slots=True)
class Statements:
    returning: bool  # whether an INSERT returns its new id as a row (else: lastrowid)
    user_exists: str
    token_hash: str
    group_members: str
    message_id: str
    add_message: str
    enqueue: str
    queue_length: str
    drop_copy: str
    copies_left: str
    queued: str
    forget_one: str


def prepare(db: peewee.Database) -> Statements:
    """The statements for `db`, with its placeholder and quoting."""
    p = db.param
    returning = bool(db.returning_clause)

    def q(name: str) -> str:
        return name.join(db.quote)  # db.quote is the pair of quote characters, '""'

    user, member = q(User._meta.table_name), q(Member._meta.table_name)
    message, pending = q(Message._meta.table_name), q(Pending._meta.table_name)
    new_id = f" RETURNING {q('id')}" if returning else ""
    key = f"{q('src')} = {p} AND {q('dst')} = {p} AND {q('ts')} = {p}"
    message_of_key = f"(SELECT {q('id')} FROM {message} WHERE {key})"
    return Statements(
        returning=returning,
        user_exists=f"SELECT 1 FROM {user} WHERE {q('id')} = {p}",
        token_hash=f"SELECT {q('token_hash')} FROM {user} WHERE {q('id')} = {p}",
        group_members=(f"SELECT {q('user_id')} FROM {member} WHERE {q('group_id')} = {p} "
                       f"ORDER BY {q('position')}"),
        message_id=f"SELECT {q('id')} FROM {message} WHERE {key}",
        # a known key inserts nothing: the row count (or the returned rows) says which
        add_message=(f"INSERT INTO {message} ({q('src')}, {q('dst')}, {q('ts')}, "
                     f"{q('accepted')}) VALUES ({p}, {p}, {p}, {p}) "
                     f"ON CONFLICT ({q('dst')}, {q('src')}, {q('ts')}) DO NOTHING{new_id}"),
        enqueue=(f"INSERT INTO {pending} ({q('recipient')}, {q('message_id')}, {q('frame')}) "
                 f"VALUES ({p}, {p}, {p}){new_id}"),
        queue_length=(f"SELECT COUNT(*) FROM (SELECT 1 FROM {pending} "
                      f"WHERE {q('recipient')} = {p} LIMIT {p}) AS owed"),
        drop_copy=(f"DELETE FROM {pending} "
                   f"WHERE {q('recipient')} = {p} AND {q('message_id')} = {message_of_key}"),
        copies_left=(f"SELECT COUNT(*) FROM {pending} "
                     f"WHERE {q('message_id')} = {message_of_key}"),
        queued=(f"SELECT {q('id')}, {q('frame')}, {q('message_id')} FROM {pending} "
                f"WHERE {q('recipient')} = {p} AND {q('id')} > {p} "
                f"ORDER BY {q('id')} LIMIT {p}"),
        forget_one=f"DELETE FROM {pending} WHERE {q('id')} = {p}",
    )
