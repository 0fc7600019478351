"""Storage: the only package that knows peewee or SQL.

`open_store(url, sync, shared)` connects, sets SQLite up (WAL, synchronous,
foreign keys, a short busy timeout), creates the tables, copies those of
earlier versions into them (upgrade.py) and returns a Store. The rooms:
store.py (what is asked of the database), statements.py (the hot path's SQL),
writes.py (what waits for the commit), runner.py (running it, and the
transaction), caches.py (what one process may remember), wakeups.py (telling
other processes), models.py (the tables).
"""

import os
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.models import MODELS, use_database
from interzap_server.storage.runner import Runner, StorageError
from interzap_server.storage.store import Queued, Store
from interzap_server.storage.upgrade import upgrade
from interzap_server.storage.wakeups import Wakeups
from interzap_server.storage.writes import Key

__all__ = ["BUSY_TIMEOUT", "Key", "Queued", "StorageError", "Store", "open_store"]

BUSY_TIMEOUT = 0.2
"""Seconds a write waits for another process's lock: short, so the loop never stalls long."""

_SYNC = {"full": 2, "normal": 1}


def _sqlite_pragmas(sync: str) -> dict[str, object]:
    return {"journal_mode": "wal", "synchronous": _SYNC[sync], "foreign_keys": 1}


def open_store(url: str, sync: str = "full", shared: bool = False) -> Store:
    """Connect to a file path (SQLite) or a peewee database URL and prepare the tables.

    `shared`: other server processes write the same database, so nothing may be
    remembered between statements (caches.py); every answer comes from the database.
    """
    if "://" not in url:
        db: peewee.Database = peewee.SqliteDatabase(
            os.path.abspath(url), pragmas=_sqlite_pragmas(sync), timeout=BUSY_TIMEOUT)
    elif urlparse(url).scheme.startswith("sqlite"):
        db = connect(url, pragmas=_sqlite_pragmas(sync), timeout=BUSY_TIMEOUT)
    else:
        db = connect(url)
    use_database(db)
    try:
        db.connect()
        db.create_tables(MODELS)
        runner = Runner(db)
        upgrade(runner, shared)
    except (peewee.DatabaseError, StorageError) as exc:
        raise StorageError(f"cannot open the database {url}: {exc}") from exc
    return Store(runner, LocalCaches(on=not shared), Wakeups())
