"""The statement runner: SQL in, rows out, driver errors turned into StorageError.

Runs SQL (the prepared statements of statements.py, or what peewee's query
builder wrote) on one cursor of its own, and begins, commits and rolls back the
connection's transaction. Knows the DB-API and peewee's Database; knows no
tables, no chat rules and nothing of what the store keeps in memory.
"""

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import peewee

Row = tuple[Any, ...]
"""A row as the driver returns it: its values' types are the columns'."""


class StorageError(Exception):
    """The database refused or failed; what was being done did not happen."""


class Cursor(Protocol):
    """What the runner uses of a DB-API 2 cursor."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def execute(self, sql: str, params: Sequence[object], /) -> object: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[object]], /) -> object: ...

    def fetchall(self) -> list[Row]: ...


DRIVER_ERRORS: tuple[type[Exception], ...] = (peewee.DatabaseError, sqlite3.Error)
try:
    import psycopg2
    DRIVER_ERRORS += (psycopg2.Error,)
except ImportError:
    pass


def storage_error(exc: BaseException) -> StorageError:
    return StorageError(_reason(exc))


def _reason(exc: BaseException) -> str:
    """What went wrong, first cause first.

    A failed COMMIT (disk full) is followed by a ROLLBACK, which may fail too
    ("no transaction is active"); that last error alone would hide the cause.
    """
    reasons: list[str] = []
    error: BaseException | None = exc
    while isinstance(error, DRIVER_ERRORS):
        if str(error) not in reasons:
            reasons.insert(0, str(error))
        error = error.__context__
    return "; then: ".join(reasons)


class Runner:
    """One connection's statements and transactions; every failure is a StorageError.

    Errors are translated by a try around each call rather than by a context
    manager: on the hot path a context manager per statement costs more than
    the statement.
    """

    def __init__(self, db: peewee.Database) -> None:
        """`db` must be connected: the runner takes its cursor now."""
        self.db = db
        self.returning = bool(db.returning_clause)  # INSERT ... RETURNING, else lastrowid
        # peewee's stub leaves cursor() unannotated; it returns the driver's DB-API cursor
        self._cursor: Cursor = db.cursor()  # type: ignore[no-untyped-call]

    # -- transactions ------------------------------------------------------------------
    #
    # peewee 4 keeps every connection in the driver's autocommit mode (sqlite3's
    # isolation_level=None, psycopg2's autocommit=True) and its begin(), commit()
    # and rollback() send the plain statements; nothing here touches peewee's own
    # stack of atomic() blocks, which the store never uses.

    def begin(self) -> None:
        """BEGIN (deferred on SQLite: the write lock is taken by the first write)."""
        try:
            self.db.begin()
        except DRIVER_ERRORS as exc:
            raise storage_error(exc) from exc

    def commit(self) -> None:
        """COMMIT; if that fails, ROLLBACK, so that no transaction is left open either way.

        A failed COMMIT may leave the transaction open (SQLite: SQLITE_BUSY) or
        may have ended it (SQLITE_FULL); the ROLLBACK covers the first case and
        its own failure in the second is named after the cause.
        """
        try:
            self.db.commit()
        except DRIVER_ERRORS as exc:
            self.rollback()
            raise storage_error(exc) from exc

    def rollback(self) -> None:
        try:
            self.db.rollback()
        except DRIVER_ERRORS as exc:
            raise storage_error(exc) from exc

    # -- statements --------------------------------------------------------------------

    def run(self, sql: str, *params: object) -> Cursor:
        """Run one statement on the runner's own cursor; returns the cursor."""
        try:
            self._cursor.execute(sql, params)
        except DRIVER_ERRORS as exc:
            raise storage_error(exc) from exc
        return self._cursor

    def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run one statement over many rows of parameters (executemany); the rows changed."""
        try:
            self._cursor.executemany(sql, rows)
        except DRIVER_ERRORS as exc:
            raise storage_error(exc) from exc
        return self._cursor.rowcount

    def rows(self, sql: str, *params: object) -> list[Row]:
        """Every row of a statement.

        Always all of them: a statement left unfinished would keep its read
        snapshot open and stop SQLite from checkpointing the WAL.
        """
        cursor = self.run(sql, *params)
        try:
            return cursor.fetchall()
        except DRIVER_ERRORS as exc:
            raise storage_error(exc) from exc

    def one(self, sql: str, *params: object) -> Row | None:
        """The first row of a statement, or None."""
        rows = self.rows(sql, *params)
        return rows[0] if rows else None

    def count(self, sql: str, *params: object) -> int:
        """The number a COUNT statement returns."""
        row = self.one(sql, *params)
        assert row is not None  # an aggregate without GROUP BY always has its row
        return int(row[0])

    def insert(self, sql: str, *params: object) -> int | None:
        """Run an INSERT; the new row's id, or None if it inserted nothing."""
        if self.returning:
            row = self.one(sql, *params)
            return None if row is None else int(row[0])
        cursor = self.run(sql, *params)
        if not cursor.rowcount:
            return None
        assert cursor.lastrowid is not None  # set by an INSERT that inserted a row
        return cursor.lastrowid

    # -- statements written by peewee's query builder (not the hot path) ----------------
    #
    # Run here rather than by peewee so that their errors and rows are like the
    # others'. peewee writes an INSERT of a model with RETURNING of its key
    # exactly when the database takes one, which is when insert() expects it.

    def query(self, query: peewee.BaseQuery) -> list[Row]:
        """The rows of a SELECT, as tuples."""
        sql, params = query.sql()
        return self.rows(sql, *params)

    def execute(self, query: peewee.BaseQuery) -> int:
        """Run an UPDATE, DELETE or INSERT; the rows it changed."""
        sql, params = query.sql()
        return self.run(sql, *params).rowcount

    def insert_query(self, query: peewee.BaseQuery) -> int:
        """Run an INSERT of one row; its new id."""
        sql, params = query.sql()
        new = self.insert(sql, *params)
        assert new is not None  # only an ON CONFLICT clause can make an INSERT insert nothing
        return new

    def close(self) -> None:
        self.db.close()
