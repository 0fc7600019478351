"""What waits to go to PostgreSQL with a transaction's next statement, in one query string.

Savepoints, on PostgreSQL only (a failed statement aborts the whole
transaction there). Runner.savepoint() asks for one, and it goes ahead of the
next statement in the same round trip (`RELEASE SAVEPOINT frame; SAVEPOINT
frame; ...`), so a frame pays no round trip for it;
Runner.rollback_to_savepoint() undoes what ran since, and the transaction goes
on. Measured on the 05 path: +4-8% a frame in
batches of 50, +16% in batches of 300 (each frame that writes is a
subtransaction with an id of its own; past 64 in one transaction PostgreSQL's
per-session cache of them overflows, which also costs other sessions'
snapshots a lookup while the batch is open); as statements of their own,
+32%. On SQLite a failed statement aborts nothing, and the caller rolls the
whole transaction back, as it always did.

Round trips, on PostgreSQL only (sqlite3 runs one statement a call, and a call
costs it no round trip). A statement travels with the ones before it that
nobody waits on: BEGIN goes with the transaction's first statement (a
transaction that runs none sends neither BEGIN nor COMMIT), and the writes of
the flush at commit (Runner.later(), while Runner.hold() is on) go with the
next statement that returns rows, or with the COMMIT itself. A failure among
them aborts the transaction like any other, and the whole of it is rolled
back: nothing is held once a frame may still be undone alone (hold() is for
the commit's flush only). DISCARD PLANS goes with a BEGIN when the prepared
statements' plans are due to be made again (prepared.py).

Knows statement texts; knows no connection and no driver (runner.py sends).
"""

from interzap_server.storage.prepared import Plans

SAVEPOINT = "frame"
"""The one savepoint's name: set anew (and the last one released) for each frame."""


class NextTrip:
    """The runner's statements waiting for the next one."""

    def __init__(self, plans: Plans) -> None:
        self._plans = plans
        self.begun = True  # BEGIN was sent (on PostgreSQL, with the first statement)
        self.holding = False  # writes wait for the next statement (Runner.hold())
        self._held: list[str] = []
        self.savepoint_asked = False  # the next statement sets a new savepoint first
        self._savepoint = False  # SAVEPOINT exists in the transaction
        self._marked = False  # a statement ran since the savepoint was asked

    def ask_savepoint(self) -> None:
        """What runs from now on may be undone alone: a new savepoint before it."""
        self.savepoint_asked, self._marked = True, False

    def take_savepoint(self) -> str:
        """The statements that set the savepoint asked for, to go ahead of the next one."""
        release = f"RELEASE SAVEPOINT {SAVEPOINT}; " if self._savepoint else ""
        self.savepoint_asked = False
        self._savepoint = self._marked = True
        return f"{release}SAVEPOINT {SAVEPOINT}; "

    def drop_savepoint(self) -> bool:
        """The frame is undone: whether a statement ran since its savepoint was asked
        (then the savepoint exists, to roll back to)."""
        marked = self._marked
        self.savepoint_asked = self._marked = False
        return marked

    def hold(self, statement: str) -> None:
        """A write (its parameters in it) to go with the next statement."""
        self._held.append(statement)

    @property
    def empty(self) -> bool:
        """Whether a statement may go alone."""
        return self.begun and not self._held

    @property
    def used(self) -> bool:
        """Whether the transaction sent or holds anything (else its COMMIT sends nothing)."""
        return self.begun or bool(self._held)

    def joined(self, statement: str) -> str:
        """`statement` after what must go first: BEGIN if not sent yet (and DISCARD PLANS
        when due), the held writes."""
        head = [] if self.begun else ["BEGIN", *self._plans.renewal()]
        self.begun = True
        statements = [*head, *self._held, statement]
        self._held.clear()
        return "; ".join(statements)

    def ended(self) -> None:
        """The transaction is over: nothing waits."""
        self.begun, self.holding = True, False
        self.savepoint_asked = self._savepoint = False
        self._held.clear()
