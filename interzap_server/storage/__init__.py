"""Storage: the only package that knows peewee or SQL.

`open_store(url, sync, shared)` connects and sets the connection up (SQLite:
WAL, synchronous, foreign keys, a short busy timeout; PostgreSQL:
synchronous_commit and lock_timeout, on every connection the server makes),
creates the tables and copies those of earlier versions into them (upgrade.py)
once however many servers start at once, says in the log what durability the
database really gives, and returns a Store. The rooms: store.py (what is asked
of the database), statements.py (the hot path's SQL), writes.py (what waits
for the commit), runner.py (running it, the transaction, savepoints and
reconnecting), failures.py (what a driver error means), caches.py (what one
process may remember), wakeups.py (telling other processes), heads.py and
places.py (what a node of a cluster holds or remembers instead), models.py (the
tables), upgrade.py (the tables of earlier versions), accounts.py (logins,
invites and the operator's changes, as the server sees them), census.py (the
queues counted a slice at a time), admin.py (the operator's queries:
`open_admin(url)`).
"""

import logging
import os
import time
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlparse, urlunparse

import peewee
from playhouse.db_url import connect

from interzap_server.storage.accounts import DELETE, DISABLE, RESET, Change
from interzap_server.storage.admin import Admin, AdminError
from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.census import Census
from interzap_server.storage.failures import DRIVER_ERRORS, Reported
from interzap_server.storage.models import MODELS, use_database
from interzap_server.storage.pages import Page, Queued
from interzap_server.storage.presence import PresenceTable
from interzap_server.storage.runner import Runner, StorageError
from interzap_server.storage.solo import AlreadyServed
from interzap_server.storage.statements import prepare
from interzap_server.storage.store import Store
from interzap_server.storage.upgrade import upgrade
from interzap_server.storage.wakeups import (
    Carried,
    Heard,
    Notifications,
    Replaced,
    Resync,
    Told,
    Wake,
    Wakeups,
)
from interzap_server.storage.writes import Key

__all__ = ["BUSY_TIMEOUT", "DELETE", "DISABLE", "LOCK_TIMEOUT", "RESET", "Admin", "AdminError",
           "Carried", "Census", "Change", "Heard", "Key", "Page", "Queued", "Replaced",
           "Reported", "Resync", "StorageError", "Store", "Told", "Wake", "Wakeups",
           "open_admin", "open_store"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 0.2
"""Seconds an SQLite write waits for another process's lock: short, so that the loop never
stalls long."""
ADMIN_BUSY_TIMEOUT = 5.0
"""Seconds a change of interzap-admin waits for the server's SQLite write lock."""
LOCK_TIMEOUT = 0.1
"""Seconds a PostgreSQL statement waits for a lock held elsewhere before the server cancels
it (lock_timeout). A transaction waits so once at most (runner.py), so a frame waits for
at most about two of these: the batch it came during, and its own."""
SETUP_TIMEOUT = 60.0
"""Seconds a starting server may wait for another one that is creating the tables."""
CONNECT_TIMEOUT = 2
"""libpq's connect_timeout (whole seconds, 2 at least): how long one try to connect (again)
may hold the loop when the database's host does not answer at all."""
SCHEMA_LOCK = int.from_bytes(b"interzap", "big")
"""The PostgreSQL advisory lock held while the tables are created."""
SERVERS_LOCK = SCHEMA_LOCK + 1
"""The PostgreSQL advisory lock every server holds for as long as it is connected: a lone
server exclusively, the nodes of a cluster (`shared`) shared, so neither kind starts
beside the other (a lone server keeps truths in memory that another would break)."""
ROLE_WAIT = 5.0
"""Seconds a starting server waits for that lock: a server just killed may still hold it
until PostgreSQL notices its connection is gone."""

_SYNC = {"full": 2, "normal": 1}
"""--sync as SQLite's PRAGMA synchronous."""
_SYNCHRONOUS_COMMIT = {"full": "on", "normal": "off"}
"""--sync as PostgreSQL's synchronous_commit: `off` loses the last commits in a crash of
the database (not of our server), as `normal` loses them in a power cut on SQLite."""


def open_store(url: str, sync: str = "full", shared: bool = False, node: str = "",
               server: bool = True) -> Store:
    """Connect to a file path (SQLite) or a peewee database URL and prepare the tables.

    `sync`: "full" (the default) or "normal" (see _SYNC and _SYNCHRONOUS_COMMIT).
    `shared`: other server processes write the same database, so nothing may be
    remembered between statements (caches.py); every answer comes from the database,
    and on PostgreSQL the nodes tell each other what they wrote (wakeups.py; a second
    connection, named after `node` in pg_stat_activity, listens).
    `server`: False for a program beside the servers that only reads (a test): on
    PostgreSQL it takes no SERVERS_LOCK, so a lone server does not refuse it.
    """
    runner = _prepared(url, sync, shared, server)
    wakeups = Wakeups()
    if runner.savepoints and shared:  # PostgreSQL
        try:
            wakeups = Notifications(partial(_listening_connection, url, sync, node))
        except DRIVER_ERRORS as exc:
            runner.close()
            raise StorageError(f"cannot listen on the database {_shown(url)}: {exc}") from exc
    return Store(runner, LocalCaches(on=not shared), wakeups)


def open_admin(url: str) -> Admin:
    """The operator's queries (interzap-admin) on the database a server may be using, tables
    made or upgraded if needed. Nothing is remembered between its statements (storage/
    admin.py keeps no caches), and it writes no queue, so the queue heads a shared server
    raises at its start (upgrade.py) are not its business: that is a scan of the queue."""
    runner = _prepared(url, "full", shared=False, server=False)  # no queue: no queue heads
    if not runner.savepoints:  # SQLite: wait for the server's write lock longer than it does
        runner.run(f"PRAGMA busy_timeout = {round(ADMIN_BUSY_TIMEOUT * 1000)}")
    return Admin(runner)


def _prepared(url: str, sync: str, shared: bool, server: bool = True) -> Runner:
    """A runner on the database, its tables made and upgraded, its durability said; for a
    `server` on PostgreSQL, SERVERS_LOCK held (_take_role)."""
    db = _database(url, sync)
    use_database(db)
    postgres = isinstance(db, peewee.PostgresqlDatabase)
    try:
        db.connect()
        runner = Runner(db, savepoints=postgres)
        if postgres:
            _create_postgres_tables(db, runner, shared)
            if server:
                _take_role(runner, shared, ROLE_WAIT)
                runner.reconnected = partial(_retake_role, runner, shared)
        else:
            _create_sqlite_tables(db, runner, shared)
        if server and not shared:  # the only server: whoever its last run left online is not
            runner.begin()
            PresenceTable(runner, prepare(db)).all_offline()
            runner.commit()
        _say_durability(runner, postgres, url, sync)
    except AlreadyServed:
        db.close()
        raise
    except (peewee.DatabaseError, StorageError) as exc:
        raise StorageError(f"cannot open the database {_shown(url)}: {exc}") from exc
    return runner


def _listening_connection(url: str, sync: str, node: str) -> Any:
    """A new psycopg2 connection in autocommit mode (peewee's), for LISTEN; TCP keepalives
    so that a database host that vanished is noticed in seconds, not hours."""
    db = _database(url, sync, application_name=f"interzap listen {node}"[:63],
                   keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
    db.connect()
    return db.connection()  # type: ignore[no-untyped-call]


def _database(url: str, sync: str, **more: object) -> peewee.Database:
    """The database of a path or URL, not yet connected. SQLite waits up to SETUP_TIMEOUT
    for another process while the tables are made, BUSY_TIMEOUT afterwards."""
    pragmas = {"synchronous": _SYNC[sync], "foreign_keys": 1}  # WAL: _create_sqlite_tables
    if "://" not in url:
        return peewee.SqliteDatabase(os.path.abspath(url), pragmas=pragmas, timeout=SETUP_TIMEOUT)
    scheme = urlparse(url).scheme
    db: peewee.Database  # playhouse.db_url is untyped
    if scheme.startswith("sqlite"):
        db = connect(url, pragmas=pragmas, timeout=SETUP_TIMEOUT)
    elif scheme.startswith("postgres"):
        db = connect(url, **_postgres_settings(url, sync), **more)
    else:
        db = connect(url)
    return db


def _postgres_settings(url: str, sync: str) -> dict[str, object]:
    """libpq's parameters for each of the server's connections, reconnections included:
    synchronous_commit as --sync says and lock_timeout, after (so over) any `options` the
    URL gives; CONNECT_TIMEOUT unless the URL sets one."""
    given = dict(parse_qsl(urlparse(url).query))
    ours = (f"-c synchronous_commit={_SYNCHRONOUS_COMMIT[sync]} "
            f"-c lock_timeout={round(LOCK_TIMEOUT * 1000)}ms")
    settings: dict[str, object] = {"options": f"{given.get('options', '')} {ours}".strip()}
    if "connect_timeout" not in given:
        settings["connect_timeout"] = CONNECT_TIMEOUT
    return settings


def _create_sqlite_tables(db: peewee.Database, runner: Runner, shared: bool) -> None:
    """WAL first, then each CREATE on its own: a transaction that read before writing
    could not wait for another process's write lock (SQLite refuses that upgrade at once).
    The copy of earlier tables runs in a transaction that takes the write lock first
    (BEGIN IMMEDIATE), so a second server waits for it and then finds nothing to copy."""
    _turn_on_wal(runner)
    db.create_tables(MODELS)
    runner.run("BEGIN IMMEDIATE")
    try:
        upgrade(runner, shared)
    except BaseException:
        runner.run("ROLLBACK")
        raise
    runner.run("COMMIT")
    runner.run(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT * 1000)}")


def _turn_on_wal(runner: Runner) -> None:
    """PRAGMA journal_mode = wal while another process writes the same new file fails at
    once: SQLite does not wait for a lock a reader asks to upgrade (it could deadlock). So
    wait for that writer the way SQLite does wait, by taking the write lock itself (the
    busy timeout, SETUP_TIMEOUT), let it go, and try again; a few rounds at most."""
    deadline = time.monotonic() + SETUP_TIMEOUT
    while True:
        try:
            runner.one("PRAGMA journal_mode = wal")
            return
        except StorageError:
            if time.monotonic() > deadline:
                raise
            runner.run("BEGIN IMMEDIATE")  # returns once the other writer has committed
            runner.run("ROLLBACK")


def _create_postgres_tables(db: peewee.Database, runner: Runner, shared: bool) -> None:
    """In one transaction, under an advisory lock: servers started at once on an empty
    database would otherwise race to create the same tables (all but one would die of a
    duplicate key in pg_class), and on an old one to copy and drop its tables. The lock
    and SET LOCAL end with the transaction."""
    runner.begin()
    try:
        runner.run(f"SET LOCAL lock_timeout = '{round(SETUP_TIMEOUT)}s'")
        runner.run("SELECT pg_advisory_xact_lock(%s)", SCHEMA_LOCK)
        db.create_tables(MODELS)
        upgrade(runner, shared)
    except BaseException:
        runner.rollback()
        raise
    runner.commit()


def _take_role(runner: Runner, shared: bool, wait: float) -> None:
    """Hold SERVERS_LOCK for this connection's life (shared: as one node of a cluster);
    AlreadyServed if a server of the other kind (or, alone, any other) holds it."""
    runner.begin()
    try:
        runner.run(f"SET LOCAL lock_timeout = '{round(wait * 1000)}ms'")
        runner.run(f"SELECT pg_advisory_lock{'_shared' if shared else ''}(%s)", SERVERS_LOCK)
    except StorageError:
        runner.rollback()
        raise AlreadyServed(
            "a server without --cluster uses this database: stop it, or start every node "
            "with --cluster (docs/SCALING.md)" if shared else
            "another server uses this database: a second one needs --cluster on every "
            "node (docs/SCALING.md)") from None
    runner.commit()


def _retake_role(runner: Runner, shared: bool) -> None:
    """After a reconnection: the lock went with the old connection; take it again."""
    try:
        _take_role(runner, shared, LOCK_TIMEOUT)
    except StorageError as exc:
        log.error("%s (taken while the connection was lost)", exc)


def _say_durability(runner: Runner, postgres: bool, url: str, sync: str) -> None:
    """Log what the database really does on commit (read back, not assumed); warn if that
    is less than --sync asks."""
    if postgres:
        (commit,) = runner.one("SHOW synchronous_commit") or ("?",)
        (lock,) = runner.one("SHOW lock_timeout") or ("?",)
        settings = f"synchronous_commit={commit}, lock_timeout={lock}"
        # on, local, remote_write, remote_apply all wait for the local disk
        weaker = commit == "off" and sync == "full"
    else:
        (synchronous,) = runner.one("PRAGMA synchronous") or (-1,)
        (journal,) = runner.one("PRAGMA journal_mode") or ("?",)
        settings = f"synchronous={synchronous}, journal_mode={journal}"
        weaker = synchronous < _SYNC[sync]
    log.info("database %s (sync=%s: %s)", _shown(url), sync, settings)
    if weaker:
        log.warning("the database commits with less durability than --sync %s asks (%s): a "
                    "crash may lose messages already answered with 16", sync, settings)


def _shown(url: str) -> str:
    """The path or URL as the log may show it: without a password."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return urlunparse(parsed._replace(netloc=netloc))
