"""Telling the other server processes on the same database that a user is owed a frame.

On SQLite there is nobody to tell: one process serves the file, and it sends a
new entry itself (sessions.py), so notify() does nothing and there is nothing to
listen to. This is the place for PostgreSQL's LISTEN/NOTIFY when several
servers share one database: notify() will send NOTIFY on the store's own
connection, inside the batch's transaction, so that it goes out only if the
batch commits; fileno() will be the listening connection's socket, for the
loop's selector to watch.

Knows user ids; knows no SQL yet, no sessions and no chat rules.
"""


class Wakeups:
    """The SQLite case: nothing to send, nothing to listen to."""

    def notify(self, user: str) -> None:
        """`user`'s queue grew in this transaction (called for every entry made)."""

    def fileno(self) -> int | None:
        """What the loop would watch for other processes' notifications: none here."""
        return None
