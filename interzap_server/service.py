"""The service: the dispatch of frames to the chat rules, and the transaction they share.

Knows sessions (sessions.py), the rule table (rules/) and the store's begin,
commit and rollback; knows no sockets, no SQL and no chat rule of its own.

Theory of operation: the loop wraps each iteration in `with service.batch(now):`,
inside one database transaction. Every frame handed to handle() becomes a unit
whose effects (frames to send) are held until that transaction commits, so no 16
or 06 leaves for something that is not on disk. If the commit fails, each unit
that wrote is answered with 13/99 instead. A frame whose statement fails is
undone alone where the database allows (a savepoint per frame, PostgreSQL) and
answered 13/99, and the rest of the batch goes on; where it does not (SQLite,
a lost connection, a bug) the whole batch is rolled back. If the database is
away, the batch has no transaction: every frame that needs the database is
answered 13/99 (or, for 12 and 08, not at all), the others as usual, a 14 with
its 15 (PROTOCOL.md 5.3). What a frame does to the transaction
is its policy (rules/table.py): an answered frame commits it at the end of the
iteration; one nobody waits on (12, 08, the confirmations of written entries,
housekeeping) lets it stay open a few iterations (COMMIT_DELAY) to share one
commit; an ephemeral one does neither. Every frame owed to a user is a queue
entry first; sessions.py sends the entries.
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

from interzap_server.lookahead import Frame, LookAhead, Retries, needs
from interzap_server.rules import RULES, Context, Item, Rule, Unit, presence
from interzap_server.rules.accounts import close_changed, hash_token
from interzap_server.rules.context import KEY_MEMORY
from interzap_server.sessions import Link, Sessions
from interzap_server.storage import (
    Census,
    Change,
    Heard,
    Reported,
    StorageError,
    Store,
    Wakeups,
)
from shared import events as ev
from shared.codec import encode
from shared.codes import GREETING, ErrorCode
from shared.errors import RemoteProtocolError

# hash_token is the accounts rule's, KEY_MEMORY the context's; bench/ and tests import them here
__all__ = ["COMMIT_DELAY", "KEY_MEMORY", "Service", "hash_token"]

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMIT_DELAY = 0.005
"""Seconds a transaction holding only frames nobody waits on may stay open for more."""
SHARED_HOLD = 0.01
"""Seconds a transaction of a node sharing its database may have run when a frame comes
before it is committed first, and a new one begun for that frame: it holds row locks
(queue heads, a group message's key, read marks) that other nodes' frames to the same
users wait for, and such a wait is cancelled after storage.LOCK_TIMEOUT (0.1 s)."""
NOT_STORED = "the server could not store this; nothing was done, try again"
"""The reason of the 13/99 for a frame that writes (PROTOCOL.md section 4)."""
NOT_CHECKED = "the server could not check this; nothing was done, try again"
"""The reason of the 13/99 for a frame that only reads (a 03) when the database failed."""


class Service:
    """handle(link, frame) -> what to send to whom, held until the batch commits."""

    def __init__(self, store: Store, sessions: Sessions, max_queue: int = 10_000,
                 registration: str = "open") -> None:
        self._store = store
        self._sessions = sessions
        self._context = Context(store, sessions, max_queue, registration=registration)
        self._units: list[Unit] = []
        self._open = False  # a transaction is under way
        self._opened = 0.0  # when it began
        self._hold = SHARED_HOLD if store.shared else None  # how long it may hold locks
        self._alone = store.undoes_alone  # a frame gets a savepoint (PostgreSQL)
        self._ahead = LookAhead()  # a node's frames of the iteration (prepare())
        self._again = Retries()  # a node's silent frames that failed, to handle again
        self._began = 0.0  # when it began, by perf_counter (only when shared)
        self._urgent = False  # it holds a frame whose answer must not wait
        self._deferred = False  # it holds work that may wait (else it ends with the iteration)
        self._locking = False  # a node's: it holds locks other nodes' frames wait for
        self._doomed = False  # something failed: roll it back
        self.on_commit: Callable[[float], None] | None = None  # told a commit's seconds
        self._last_change: int | None = None  # the operator's last change acted on

    # -- connections -----------------------------------------------------------

    def connect(self, link: Link) -> None:
        self._sessions.open(link)
        link.write(encode(ev.Greeting(GREETING)))

    def report_failed_logins(self, report: Callable[[Link], None]) -> None:
        """Tell `report` of each 03 refused 13/04 (the loop charges the address's limit)."""
        self._context.on_failed_login = report

    def is_logged_in(self, link: Link) -> bool:
        session = self._sessions.get(link)
        return session is not None and session.user is not None

    def disconnect(self, link: Link) -> None:
        """The connection is gone; if it was its user's current one, the end of the next
        batch records their last seen and tells who asked (rules/presence.py)."""
        session = self._sessions.get(link)
        if session is not None and session.user is not None and not session.retired:
            self._context.moves.append((session.user, False))
        self._sessions.close(link)

    # -- the batch -------------------------------------------------------------

    @contextmanager
    def batch(self, now: float) -> Iterator[None]:
        """One loop iteration: handle frames inside; effects leave after the commit.

        A frame that hits a storage error gets 13/99 and is undone alone if the
        database allows (a savepoint); otherwise, and after a bug, the whole
        transaction is rolled back (no frame is left half-written) and every
        writing frame in it gets 13/99.

        A transaction that holds only frames nobody is waiting on (12s, 08s, the
        confirmations of written entries, housekeeping) is not committed at once:
        it stays open for the next iterations, up to COMMIT_DELAY, so that one
        commit (one fsync) serves them all. An answered frame commits it; so does
        a node's 12 or 08, whose locks other nodes may wait for.
        """
        self._context.now = int(now)
        if not self._open:
            self._begin(now)
        try:
            for link, item, line in self._again.due():
                self.handle(link, item, line)  # before the iteration's frames
            yield
            if self._context.moves:
                self._record_presence()
        except BaseException:
            self._end(commit=False)
            raise
        if (self._urgent or self._locking or self._doomed or not self._deferred
                or now >= self._opened + COMMIT_DELAY):  # the very sum commit_due() gives
            self._end(commit=not self._doomed)

    def _begin(self, now: float, again: bool = False) -> None:
        self._open, self._opened = True, now
        if self._hold is not None:
            self._began = time.perf_counter()
        self._urgent = self._deferred = self._doomed = self._locking = False
        try:
            self._store.begin(again)
        except StorageError as exc:
            # no transaction: what needs the database gets 13/99, the rest goes on
            self._doomed = True
            if not isinstance(exc, Reported):
                log.error("cannot begin a transaction, the batch is answered with 13/99: %s",
                          exc)

    def commit_due(self) -> float | None:
        """When the open transaction must be committed, if one is open (loop time); at
        once if a login or a departure waits to be recorded."""
        if self._context.moves:
            return 0.0
        return self._opened + COMMIT_DELAY if self._open else None

    def settle(self) -> None:
        """Commit the open transaction now, if there is one (before shutting down)."""
        if self._open:
            self._end(commit=not self._doomed)

    def _end(self, commit: bool) -> None:
        """Commit or roll back the open transaction, then release every unit in it."""
        self._open = False
        try:
            if commit:
                started = time.perf_counter()
                self._store.commit()
                if self.on_commit is not None and self._units:  # not the empty batches
                    self.on_commit(time.perf_counter() - started)
            else:
                self._store.rollback()
        except StorageError as exc:
            if not isinstance(exc, Reported):
                log.error("%s failed, the batch is answered with 13/99: %s",
                          "commit" if commit else "rollback", exc)
            commit = False
        self._release(committed=commit)

    def _release(self, committed: bool) -> None:
        units, self._units = self._units, []
        send_live = self._sessions.send_live
        for unit in units:
            if unit.wrote and not committed:
                self._fail(unit)
            for to, entry, frame, report in unit.sends:
                if to is None:
                    unit.session.link.write(frame)
                else:
                    send_live(to, entry, frame, report)
            for effect in unit.effects:
                effect()

    def handle(self, link: Link, item: Item, line: bytes = b"") -> None:
        """Apply one frame from `link` (or the protocol error it was), as its rule says;
        `line` is the frame as received, without its LF (a 05's rule relays it), encoded
        here for a frame handed over without one (tests, benchmarks)."""
        if not line and not isinstance(item, RemoteProtocolError):
            line = encode(item)[:-1]
        if self._hold is not None:
            self._look_ahead()  # for every frame prepare() was given, in order
        session = self._sessions.get(link)
        if session is None or session.retired:
            return
        rule = RULES[type(item)]
        policy = rule.policy
        unit = Unit(session, line, silent=not policy.answered)
        self._units.append(unit)
        if policy.urgent:
            self._urgent = True  # an answer is awaited; a 14 too: its 15 vouches for all before
        elif policy.defers:
            self._deferred = True
            # a node's 12 or 08 locks what the other nodes' frames wait for (the head of the
            # queue its 07 goes to, a group message's key, read marks): not past its iteration
            self._locking = self._hold is not None
        if policy.logs_in if session.user is not None else not policy.before_login:
            unit.refuse(policy.login_refusal(session.user))
            return
        if policy.writes:
            # even a 16 for a retransmission may vouch for a row of this very
            # batch: every writing frame waits on the commit
            unit.wrote = True
            if self._doomed:
                return  # answered with 13/99 when the batch rolls back
        self._apply(rule, unit, item)

    def _renew(self) -> None:
        """Commit the open transaction and begin another in the same iteration: let the
        other nodes have its locks (SHARED_HOLD), or lock heads in order (prepare())."""
        self._end(commit=not self._doomed)
        self._begin(self._opened, again=True)

    def prepare(self, frames: Iterable[Frame]) -> None:
        """The iteration's frames, in the order they will be handled (a node of a cluster
        only): what their 1:1 05s and 12s ask is fetched in one round trip (lookahead.py)."""
        if self._hold is not None:
            self._ahead.start(frames)

    def _look_ahead(self) -> None:
        """Before a frame of a node: commit first if the transaction held its locks
        SHARED_HOLD; fetch for the next frames if nothing fetched covers this one."""
        assert self._hold is not None  # a node's only
        if self._open and time.perf_counter() - self._began > self._hold:
            self._renew()
            self._ahead.lost()
        due = self._ahead.step()
        if due and self._open and not self._doomed:
            self._prefetch(*needs(due, self.is_logged_in))

    def _prefetch(self, recipients: dict[str, set[str]], authors: set[str],
                  keys: set[tuple[str, str, int]]) -> None:
        if not recipients and not authors:
            return
        if not self._store.node.locks_in_order(recipients.keys() | authors):  # earlier ones: below
            self._renew()
            if self._doomed:
                return
        # if it fails, the frames take the statements of their own
        self._chore("could not fetch the queue heads of the frames",
                    partial(self._store.node.prefetch, recipients, authors,
                            self._context.max_queue, keys))

    def _apply(self, rule: Rule, unit: Unit, item: Item) -> None:
        """Run the frame's rule after a savepoint, so that its failure undoes it alone."""
        if self._alone:
            self._store.savepoint()
        try:
            rule.handler(self._context, unit, item)
        except RemoteProtocolError as refusal:
            unit.refuse(refusal)
        except StorageError as exc:
            self._undo(exc, logging.ERROR, f"storage failed on {type(item).__name__}")
            self._fail(unit)
        except Exception:
            log.exception("internal error on %s, rolling the batch back", type(item).__name__)
            self._doomed = True
            self._fail(unit)  # whatever kind of frame it was

    def _undo(self, exc: StorageError, level: int, what: str) -> None:
        """Undo what failed: back to its savepoint, or else the whole batch; say so unless
        the runner already did (a lost connection, a lock)."""
        alone = self._store.rollback_to_savepoint()
        if not alone:
            self._doomed = True
        if not isinstance(exc, Reported):
            log.log(level, "%s, %s: %s", what,
                    "undone alone" if alone else "rolling the batch back", exc)

    def _fail(self, unit: Unit) -> None:
        """Replace a unit's effects by 13/99 (or silence): nothing it asked for happened.
        A node tries a 12 or 08 that wrote again in its next batches (nobody would send
        it again: a lost 12 costs a 07, a lost 08 a 09 until the next login or 08)."""
        if unit.wrote and unit.silent and self._hold is not None:
            self._again.retry(unit.session.link, unit.line)
        if unit.undo:
            unit.undo()
            unit.undo = None
        reason = NOT_STORED if unit.wrote else NOT_CHECKED
        unit.wrote = False
        unit.answer_only(None if unit.silent else encode(ev.Error(ErrorCode.INTERNAL, reason)))

    # -- work of the loop's own ------------------------------------------------

    def _chore(self, what: str, work: Callable[[], T], defers: bool = False) -> T | None:
        """The loop's own `work`, inside the batch after a savepoint, so that its failure
        is undone alone and said as `what` (a bug rolls the batch back); None then.
        `defers`: it may wait for a later commit (nobody waits on it)."""
        if defers:
            self._deferred = True
        self._store.savepoint()
        try:
            return work()
        except StorageError as exc:
            self._undo(exc, logging.WARNING, what)
        except Exception:
            log.exception("internal error: %s, rolling the batch back", what)
            self._doomed = True
        return None

    def forget_confirmed(self, entries: Sequence[int]) -> None:
        """Drop 07, 09 and 11 entries their client confirmed reading (inside a batch)."""
        self._chore(f"could not drop {len(entries)} written entries (they may be sent again)",
                    partial(self._store.forget, entries), defers=True)

    def _record_presence(self) -> None:
        """Who logged in or whose connection ended (in order), after the batch's frames:
        a failure here costs no frame its answer (a login is answered all the same), it
        only leaves a presence row behind until the user comes and goes again."""
        moves, self._context.moves = self._context.moves, []
        if not self._doomed:  # else no database (or the batch fails anyway)
            self._chore("could not record who came or went",
                        partial(presence.record_all, self._context, moves), defers=True)

    def housekeep(self) -> None:
        """Forget message keys older than KEY_MEMORY whose copies were all acknowledged."""
        forgotten = self._chore("housekeeping failed",
                                partial(self._store.prune, self._context.now - KEY_MEMORY),
                                defers=True)
        if forgotten is not None:
            log.info("forgot %d settled message keys", forgotten)

    # -- the other nodes (storage/wakeups.py, sessions.py) --------------------------------

    @property
    def listener(self) -> Wakeups:
        """What the loop watches for the other nodes' news: fileno(), drain(), retry_in()."""
        return self._store.wakeups

    def hear(self, heard: Sequence[Heard]) -> None:
        """What the other nodes said (drained from the listener): woken users' queues are
        read again (top_up), ephemeral frames sent, replaced sessions closed."""
        self._sessions.hear(heard)

    def hear_early(self, heard: Sequence[Heard]) -> list[Heard]:
        """What the other nodes said, heard in the middle of a batch: the carried entries
        that can go at once are sent; the rest is returned, for hear() after the batch."""
        return self._sessions.hear_early(heard)

    def while_waiting(self, hook: Callable[[], None]) -> None:
        """A node: have `hook` run before each round trip of a batch to the database (the
        loop hears the other nodes meanwhile). A lone server has nobody to hear."""
        if self._hold is not None:
            self._store.while_waiting(hook)

    def watch_accounts(self) -> None:
        """Act on what the operator did to accounts since the last look (inside a batch,
        once a second: storage/accounts.py): close the session of a disabled, deleted or
        reset account (rules/accounts.py). Also write the last logins since the last look."""
        changes = self._chore("cannot read the operator's changes to accounts",
                              self._operator_changes)
        if changes:
            self._last_change = changes[-1].id
            close_changed(self._sessions, changes)

    def _operator_changes(self) -> list[Change]:
        accounts = self._store.accounts
        accounts.write_logins()
        if self._last_change is None:  # the first look: only where they stand now
            self._last_change = accounts.last_change()
            return []
        return accounts.changes(self._last_change)

    def sweep(self) -> None:
        """Once a second, inside a batch: the heartbeat (rules/presence.py beat); a node's sweep
        of the queues of its sessions (Sessions.sweep), for wake-ups that never went out."""
        self._chore("cannot say that this server is alive", partial(presence.beat, self._context))
        if self._hold is not None:
            self._chore("cannot read the queue heads of the users here", self._sessions.sweep)

    def count_queues(self, budget: float) -> Census | None:
        """Count the queues for about `budget` seconds (inside a batch: census.py); the
        figures of the last whole count, None before the first."""
        self._chore("cannot count the queues for the metrics page",
                    partial(self._store.census.step, budget))
        return self._store.census.figures

    def wants_top_up(self) -> bool:
        return self._sessions.wants_top_up()

    def top_up(self) -> None:
        """Send more of the queues of sessions catching up (outside a batch).

        A transaction left open is committed first: the queues must be read as
        they are on disk, or an entry could leave before it is stored.
        """
        if self._open and self._sessions.wants_top_up():
            self.settle()
        self._sessions.top_up()

