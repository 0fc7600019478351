"""The statement runner: SQL in, rows out, driver errors turned into StorageError.

Runs SQL (the prepared statements of statements.py, or what peewee's query
builder wrote) on one cursor of its own; begins, commits and rolls back the
connection's transaction, sets savepoints in it, and connects again when the
connection is lost. Knows the DB-API and peewee's Database; knows no tables,
no chat rules and nothing of what the store keeps in memory.

Faults (a lost connection, a lock wait cancelled, anything else): failures.py.

Savepoints and round trips, on PostgreSQL only: a frame's savepoint, and the
statements nobody waits on, travel with the next statement (roundtrips.py).
Prepared statements (prepared.py) are PREPAREd by prepare() and again on every
new connection before anything runs on it; EXECUTEs travel like the rest.
"""

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import peewee

from interzap_server.storage.failures import (
    CANCELLED,
    DRIVER_ERRORS,
    ConnectionLost,
    LockTimeout,
    LockWaits,
    Outage,
    StorageError,
    aborted,
    broken,
    reason,
    sqlstate,
    storage_error,
)
from interzap_server.storage.prepared import Plans
from interzap_server.storage.roundtrips import SAVEPOINT, NextTrip

__all__ = ["DRIVER_ERRORS", "ConnectionLost", "Cursor", "LockTimeout", "Row", "Runner",
           "StorageError", "storage_error"]

Row = tuple[Any, ...]
"""A row as the driver returns it: its values' types are the columns'."""


class Cursor(Protocol):
    """What the runner uses of a DB-API 2 cursor."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def mogrify(self, sql: str, params: Sequence[object], /) -> bytes: ...

    def execute(self, sql: str, params: Sequence[object], /) -> object: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[object]], /) -> object: ...

    def fetchall(self) -> list[Row]: ...


class Runner:
    """One connection's statements and transactions; every failure is a StorageError.

    Errors are translated by a try around each call rather than by a context
    manager: on the hot path a context manager per statement costs more than
    the statement.
    """

    def __init__(self, db: peewee.Database, savepoints: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`db` must be connected: the runner takes its cursor now. `savepoints`: frames
        get savepoints (for PostgreSQL, where a failed statement aborts the transaction)."""
        self.db = db
        self.savepoints = savepoints
        self.returning = bool(db.returning_clause)  # INSERT ... RETURNING, else lastrowid
        self._clock = clock
        self._connection: Any = db.connection()  # type: ignore[no-untyped-call]
        # peewee's stub leaves cursor() unannotated; it returns the driver's DB-API cursor
        self._cursor: Cursor = db.cursor()  # type: ignore[no-untyped-call]
        self._outage: Outage | None = None
        self._locks = LockWaits()
        self._transaction = False  # BEGIN went through; no COMMIT or ROLLBACK yet
        self._refusing = False  # a lock wait was cancelled since begin(): refuse the rest
        self._plans = Plans(clock)  # PREPAREd on each connection (prepare())
        self._out = NextTrip(self._plans)  # what goes with the next statement (roundtrips.py)
        self.reconnected: Callable[[], None] | None = None  # called after connecting again
        # called before each round trip of a transaction (a node hears the others: loop.py)
        self.waiting: Callable[[], None] | None = None

    # -- transactions ------------------------------------------------------------------
    #
    # peewee 4 keeps every connection in the driver's autocommit mode (sqlite3's
    # isolation_level=None, psycopg2's autocommit=True) and its begin(), commit()
    # and rollback() send the plain statements; nothing here touches peewee's own
    # stack of atomic() blocks, which the store never uses.

    def begin(self, again: bool = False) -> None:
        """BEGIN (deferred on SQLite: the write lock is taken by the first write). Connects
        again first if the connection was lost and the next try is due (ConnectionLost
        if it is not, or fails). `again`: a transaction of the same loop iteration as the
        last one, which keeps refusing statements if a lock wait was cancelled in it (a
        loop iteration waits for a lock once at most)."""
        if self._outage is not None:
            self._reconnect()
        self._refusing = self._refusing and again
        self._transaction = True
        self._out.begun = not self.savepoints  # PostgreSQL: with the first statement
        if self._out.begun:
            try:
                self.db.begin()
            except DRIVER_ERRORS as exc:
                self._transaction = False
                raise self._failure(exc) from exc

    def commit(self, then: str | None = None, *params: object) -> StorageError | None:
        """COMMIT; if that fails, ROLLBACK, so that no transaction is left open either way.
        `then` (PostgreSQL only, where Wakeups say something): a statement to run right
        after, outside the transaction (the NOTIFY of wakeups.py), in the same round trip;
        returns why it failed if it did (the COMMIT went through all the same), else None.

        A failed COMMIT may leave the transaction open (SQLite: SQLITE_BUSY) or
        may have ended it (SQLITE_FULL); the ROLLBACK covers the first case and
        its own failure in the second is named after the cause. A transaction
        PostgreSQL aborted is not sent COMMIT, which it would take as ROLLBACK
        without an error.
        """
        if self._outage is not None:
            self._ended()
            raise ConnectionLost("the transaction was lost with the connection")
        if aborted(self._connection):
            self.rollback()
            raise StorageError("a statement failed and aborted the transaction: rolled back")
        unsaid = None
        try:
            if self.savepoints:
                unsaid = self._commit_joined(then, params)
            else:
                assert then is None, "a statement after the COMMIT is for PostgreSQL only"
                self.db.commit()
        except DRIVER_ERRORS as exc:
            failure = self._failure(exc)
            self.rollback()
            raise failure from exc
        self._ended()
        self._locks.committed(self._clock())
        return unsaid

    def _commit_joined(self, then: str | None, params: Sequence[object]) -> StorageError | None:
        """PostgreSQL: what is held, COMMIT and `then`, in one round trip (none of the first
        two if the transaction ran nothing). A failure that leaves the transaction open was
        the held writes' (the COMMIT never ran: raised, for commit() to roll back); one
        that ends it was `then`'s, returned, since COMMIT of a read committed transaction,
        with no deferred constraint, fails only with its connection (ConnectionLost:
        whether it went through is unknown, as ever)."""
        sql = self._out.joined("COMMIT") if self._out.used else ""
        if then is not None:
            sql += ("; " if sql else "") + self._cursor.mogrify(then, params).decode()
        if not sql:
            return None
        if self.waiting is not None:
            self.waiting()
        try:
            self._cursor.execute(sql, None)  # type: ignore[arg-type]  # None: no parameters
        except DRIVER_ERRORS as exc:
            if broken(self._connection) or aborted(self._connection):
                raise
            return self._failure(exc)
        return None

    def rollback(self) -> None:
        """ROLLBACK; nothing to send if the transaction was lost with the connection."""
        begun = self._out.begun
        self._ended()
        if self._outage is not None or not begun:
            return  # lost with the connection, or never sent (PostgreSQL: nothing ran)
        try:
            self.db.rollback()
        except DRIVER_ERRORS as exc:
            raise self._failure(exc) from exc

    def _ended(self) -> None:
        self._transaction = False
        self._out.ended()

    # -- savepoints (roundtrips.py) ---------------------------------------------------------

    def savepoint(self) -> None:
        """Let what runs from now on be undone alone (on PostgreSQL, inside a transaction;
        elsewhere nothing). Costs nothing until a statement runs."""
        if self.savepoints and self._transaction:
            self._out.ask_savepoint()

    def rollback_to_savepoint(self) -> bool:
        """Undo what ran since savepoint() and keep the transaction; False if that cannot
        be done (SQLite, or the connection is lost): then only rollback() can."""
        asked = self._out.drop_savepoint()
        if not (self.savepoints and self._transaction):
            return False
        if not asked:
            return True  # no statement ran since: nothing to undo
        try:
            self._cursor.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}", ())
        except DRIVER_ERRORS as exc:
            self._failure(exc)  # the caller rolls back; a lost connection is logged
            return False
        return True

    # -- statements --------------------------------------------------------------------

    def prepare(self, definitions: Sequence[str]) -> None:
        """PostgreSQL: PREPARE `definitions` on this connection now and on every one made
        again (prepared.py), outside any transaction; elsewhere nothing."""
        if self.savepoints:
            self._plans.definitions = definitions
            try:
                self._prepare()
            except DRIVER_ERRORS as exc:
                raise self._failure(exc) from exc

    def _prepare(self) -> None:
        sql = self._plans.session()
        if sql is not None:
            self._cursor.execute(sql, None)  # type: ignore[arg-type]  # None: no parameters

    def run(self, sql: str, *params: object) -> Cursor:
        """Run one statement on the runner's own cursor; returns the cursor."""
        if self._outage is not None or self._refusing:
            raise self._refusal()
        if self._out.savepoint_asked:
            sql = self._out.take_savepoint() + sql
        if self.waiting is not None and self._transaction:
            self.waiting()
        try:
            if self._out.empty:
                self._cursor.execute(sql, params)
            else:  # what waits goes first, in the same round trip (roundtrips.py)
                self._cursor.execute(self._out.joined(self._cursor.mogrify(sql, params).decode()),
                                     None)  # type: ignore[arg-type]  # None: no parameters
        except DRIVER_ERRORS as exc:
            raise self._failure(exc) from exc
        return self._cursor

    def later(self, sql: str, *params: object) -> None:
        """Run a write whose result nobody reads: at once, or while hold() is on, with the
        next statement (PostgreSQL)."""
        if self._out.holding:
            if self._outage is not None or self._refusing:
                raise self._refusal()
            self._out.hold(self._cursor.mogrify(sql, params).decode())
        else:
            self.run(sql, *params)

    def hold(self) -> None:
        """From now until the transaction ends, later() holds its writes for the next
        statement or the COMMIT (PostgreSQL; elsewhere they run at once). For the flush
        at commit only: what is held cannot be undone alone."""
        self._out.holding = self.savepoints and self._transaction

    def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run one statement over many rows of parameters (executemany); the rows changed.
        In process only (SQLite): psycopg2's executemany is a round trip per row, so on
        PostgreSQL the store writes statements of arrays instead (writes.py), which
        also take no savepoint, BEGIN or held statement to send first."""
        assert not self.savepoints, "executemany on a database server: a round trip a row"
        if self._outage is not None or self._refusing:
            raise self._refusal()
        try:
            self._cursor.executemany(sql, rows)
        except DRIVER_ERRORS as exc:
            raise self._failure(exc) from exc
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
            raise self._failure(exc) from exc

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
        with contextlib.suppress(*DRIVER_ERRORS):  # a lost connection has nothing to close
            self.db.close()

    # -- failures (module docstring) ---------------------------------------------------

    def _failure(self, exc: BaseException) -> StorageError:
        """What a driver error means: the connection lost, a lock wait cancelled, or else."""
        if broken(self._connection):
            return self._lost(exc)
        if sqlstate(exc) in CANCELLED:
            self._refusing = True
            self._locks.cancelled(self._clock(), reason(exc))
            return LockTimeout(reason(exc))
        return storage_error(exc)

    def _lost(self, exc: BaseException) -> ConnectionLost:
        self._ended()
        if self._outage is None:
            self._outage = Outage(self._clock(), reason(exc))
        return ConnectionLost(f"the connection to the database was lost: {reason(exc)}")

    def _refusal(self) -> StorageError:
        """Why a statement is not tried: no connection, or a lock wait in its transaction."""
        if self._outage is not None:
            return ConnectionLost("no connection to the database; not tried")
        self._locks.refused(self._clock())
        return LockTimeout("not tried: a statement of this batch already waited for a lock "
                           "held elsewhere")

    def _reconnect(self) -> None:
        """Connect again if the next try is due; ConnectionLost if it is not, or fails."""
        outage = self._outage
        assert outage is not None
        now = self._clock()
        if now < outage.next_try:
            raise ConnectionLost("no connection to the database; not tried")
        with contextlib.suppress(*DRIVER_ERRORS):
            self.db.close()  # peewee forgets the broken connection
        try:
            self.db.connect()
            self._connection = self.db.connection()  # type: ignore[no-untyped-call]
            self._cursor = self.db.cursor()  # type: ignore[no-untyped-call]
            self._prepare()
        except DRIVER_ERRORS as exc:
            outage.failed(now, reason(exc))
            raise ConnectionLost(f"cannot connect to the database: {reason(exc)}") from exc
        self._outage = None
        outage.over(now)
        if self.reconnected is not None:
            self.reconnected()
