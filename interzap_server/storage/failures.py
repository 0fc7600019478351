"""What a driver error means, and the runner's memory of trouble: the storage errors,
their sorting (the connection lost, a lock wait cancelled, anything else), the
backoff of an outage, and the log lines of both.

Theory of operation (faults), as the runner (runner.py) acts on them. A driver
error is one of three things:

- The connection is gone (psycopg2 marks it closed: pg_terminate_backend, a
  restart, a failover), and the open transaction went with it: ConnectionLost.
  The runner says so in the log once, then refuses every statement without
  trying it, and connects again at a begin(): the first try RECONNECT_FIRST
  seconds after the loss, then at most every RECONNECT_FIRST, doubled after
  each failure up to RECONNECT_MOST, so that a database that stays away costs
  the loop one connection attempt every few seconds, not one per frame. It
  says once when it is back. (SQLite's connection to its file is never lost.)
- A statement waited for a lock held elsewhere until the server cancelled it
  (PostgreSQL's lock_timeout, SQLSTATE 55P03, or a cancel, 57014):
  LockTimeout. So that the loop waits so once at most per iteration, every
  statement until the next begin() (the rest of the batch's transaction, and
  the reads outside it that follow) is refused without trying. Said in the log
  when it starts, and once no wait was cancelled for LOCK_QUIET seconds.
- Anything else: StorageError.

Knows the DB-API drivers' errors and connections (sqlite3, psycopg2 if
installed) and peewee's errors; knows no SQL, no tables and no transaction.
"""

import logging
import sqlite3
from typing import Any

import peewee

log = logging.getLogger(__name__)

RECONNECT_FIRST = 0.5
"""Seconds from losing the connection to the first try to connect again."""
RECONNECT_MOST = 5.0
"""The longest wait between two tries to connect again."""
LOCK_QUIET = 1.0
"""Seconds without a cancelled lock wait after which the log says the locks are gone."""
CANCELLED = frozenset({"55P03", "57014"})  # lock_not_available, query_canceled


class StorageError(Exception):
    """The database refused or failed; what was being done did not happen."""


class Reported(StorageError):
    """A failure the runner has said in the log: callers need not say it again per frame."""


class ConnectionLost(Reported):
    """The connection to the database is gone, or not back yet: nothing of the open
    transaction happened, and only rollback() is left to do."""


class LockTimeout(Reported):
    """A statement waited for a lock held elsewhere and was cancelled, or was not tried
    because one of its batch was: roll back to the savepoint (or the transaction)."""


# peewee.InterfaceError ("connection already closed") is no peewee.DatabaseError
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    peewee.DatabaseError, peewee.InterfaceError, sqlite3.Error)
IN_ERROR: object = None  # psycopg2's transaction status of an aborted transaction
try:
    import psycopg2
    import psycopg2.extensions
    DRIVER_ERRORS += (psycopg2.Error,)
    IN_ERROR = psycopg2.extensions.TRANSACTION_STATUS_INERROR
except ImportError:
    pass


def storage_error(exc: BaseException) -> StorageError:
    return StorageError(reason(exc))


def reason(exc: BaseException) -> str:
    """What went wrong, first cause first.

    A failed COMMIT (disk full) is followed by a ROLLBACK, which may fail too
    ("no transaction is active"); that last error alone would hide the cause.
    """
    reasons: list[str] = []
    error: BaseException | None = exc
    while isinstance(error, DRIVER_ERRORS):
        # the first line only: PostgreSQL's next ones quote the statement, and with it
        # what a user wrote (`LINE 1: INSERT ... VALUES (..., '06...text')`)
        text = next(iter(str(error).strip().splitlines()), "").strip()
        if text not in reasons:
            reasons.insert(0, text)
        error = error.__context__
    return "; then: ".join(reasons)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL error (peewee keeps psycopg2's error as the context)."""
    error: BaseException | None = exc
    while error is not None:
        code = getattr(error, "pgcode", None)
        if code:
            return str(code)
        error = error.__context__
    return None


def broken(connection: Any) -> bool:
    """Whether the driver found the connection gone (psycopg2's `closed`; sqlite3 has none)."""
    return bool(getattr(connection, "closed", 0))


def aborted(connection: Any) -> bool:
    """Whether PostgreSQL aborted the open transaction: it would take COMMIT as ROLLBACK."""
    status = getattr(connection, "get_transaction_status", None)
    return status is not None and bool(status() == IN_ERROR)


class Outage:
    """The connection is lost: since when, and when to try to connect again. Said in the
    log when it begins and when it is over, and in between only at debug level."""

    def __init__(self, now: float, why: str) -> None:
        self.since = now
        self.wait = RECONNECT_FIRST
        self.next_try = now + self.wait
        self.tries = 0
        log.error("lost the connection to the database (%s); what needs it is answered 13/99 "
                  "until it is back; connecting again in %g s, then at most every %g s",
                  why, RECONNECT_FIRST, RECONNECT_MOST)

    def failed(self, now: float, why: str) -> None:
        self.tries += 1
        self.wait = min(self.wait * 2, RECONNECT_MOST)
        self.next_try = now + self.wait
        log.debug("connecting again failed (%s); next try in %g s", why, self.wait)

    def over(self, now: float) -> None:
        log.warning("connected to the database again, %.1f s after the connection was lost "
                    "(tries: %d)", now - self.since, self.tries + 1)


class LockWaits:
    """Statements cancelled (or not tried) for a lock held elsewhere, for the log."""

    def __init__(self) -> None:
        self.since: float | None = None  # the first of this episode
        self.last = 0.0
        self.count = 0

    def cancelled(self, now: float, why: str) -> None:
        if self.since is None:
            self.since, self.count = now, 0
            log.warning("a statement waited for a lock held elsewhere and was cancelled (%s); "
                        "until the lock is gone, a frame that meets it is answered 13/99 "
                        "and the rest of its batch is not tried", why)
        self.refused(now)

    def refused(self, now: float) -> None:
        self.count += 1
        self.last = now

    def committed(self, now: float) -> None:
        if self.since is not None and now - self.last >= LOCK_QUIET:
            log.warning("no lock wait cancelled for %g s: %d statements were cancelled or not "
                        "tried in the %.1f s before", LOCK_QUIET, self.count,
                        self.last - self.since)
            self.since = None

