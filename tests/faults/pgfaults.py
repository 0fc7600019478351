"""PostgreSQL faults, as runs that return figures: the server's session terminated in the
middle of a burst, the cluster shut down and started again, a table locked by another
session.

Used by tests/faults/test_postgresql_faults.py, which asserts on the figures. Raw
WireClients, as in storage.py, so that every frame is seen; the cluster is
driven as its superuser (tests/postgres.py).

Theory of operation. Alice delivers a list of messages to bob (keys base + i),
at most WINDOW in flight on her one connection, so her answers come in the
order she sent: each a 16 or a 13/99. After a 13/99 she sends nothing for
RETRY seconds, then the refused key again, behind the others, as a client
would; while nothing is due she pings, so her loop never sleeps. A Pinger
thread pings back to back throughout on a connection of its own: its round
trips are how long the server's loop made everyone wait. The fault begins
once FAULT_AT keys were accepted and is lifted by the clock (or is over at
once: a termination). When every key is accepted, bob, online all along, must
hold each exactly once, in the order of alice's 16s, which is the order the
server committed them: a 16 for a message that was not committed would show
as a missing 06.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backends import Postgres
from postgres import Cluster
from wire import ServerFactory, ServerProcess, WireClient, timestamp

from faults.kit import GUARD
from faults.storage import answer_name
from interzap_server.storage.models import Entry
from shared import events as ev

MESSAGES = 300
WINDOW = 20
"""05s alice keeps in flight."""
RETRY = 0.05
"""Seconds alice holds her 05s after a 13/99."""
FAULT_AT = 100
"""Keys accepted before the fault begins, so that it lands mid-burst."""
QUIET = ("--log-level", "info")
SAID = ("WARNING", "ERROR")
"""The server's log lines the figures keep: what it said about the database."""


class Pinger(threading.Thread):
    """Pings back to back on its own connection until stopped; (sent at, round trip)."""

    def __init__(self, client: WireClient) -> None:
        super().__init__(name="pinger", daemon=True)
        self.client = client
        self.pings: list[tuple[float, float]] = []
        self.failure: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                sent = time.monotonic()
                self.client.send(ev.Ping())
                self.client.expect_next(ev.Pong())
                self.pings.append((sent, time.monotonic() - sent))
        except BaseException as exc:  # reported by halt(), in the test's own thread
            self.failure = exc

    def halt(self) -> None:
        self._halt.set()
        self.join(GUARD)
        assert not self.is_alive(), "the pinger is stuck"
        if self.failure is not None:
            raise AssertionError(f"a ping failed: {self.failure}") from self.failure


@dataclass(slots=True)
class PgFigures:
    """What happened during one fault and until every key was accepted."""

    began: float = 0.0
    lifted: float = 0.0
    """time.monotonic() of the fault's start and end (the same for a termination)."""
    answers: Counter[str] = field(default_factory=Counter)
    """Every answer alice got, first sends and resends."""
    accepted: list[int] = field(default_factory=list)
    """Keys in the order of their first 16."""
    accepted_at: list[float] = field(default_factory=list)
    refused_at: list[float] = field(default_factory=list)
    """When each 16 and each 13/99 was read."""
    after_lifted: Counter[str] = field(default_factory=Counter)
    """Answers to 05s sent after the fault was lifted."""
    logins: Counter[str] = field(default_factory=Counter)
    """Answers to a 03 sent during the fault."""
    received: list[int] = field(default_factory=list)
    """The ts of every 06 bob got, in order."""
    pings: list[tuple[float, float]] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    alive: bool = False

    @property
    def held(self) -> float:
        return self.lifted - self.began

    def ping_max(self, during_only: bool = False) -> float:
        """The longest round trip (of pings sent during the fault, if asked)."""
        return max((rtt for sent, rtt in self.pings
                    if not during_only or self.began <= sent <= self.lifted), default=0.0)

    @property
    def accepted_during(self) -> int:
        return sum(1 for at in self.accepted_at if self.began <= at <= self.lifted)

    @property
    def _first_refusal(self) -> float:
        return next((at for at in self.refused_at if at >= self.began), self.began)

    def _first_16_after(self, moment: float) -> float:
        return next((at for at in self.accepted_at if at > moment), moment)

    @property
    def without_16(self) -> float:
        """Seconds from the fault's start to the first 16 after its first 13/99 (16s read
        before that were committed before the fault)."""
        return self._first_16_after(self._first_refusal) - self.began

    @property
    def back_to_16(self) -> float:
        """Seconds from the fault's end to the first 16 after it and after its first 13/99:
        how long the server took to use the database again."""
        since = max(self.lifted, self._first_refusal)
        return self._first_16_after(since) - self.lifted


class Delivery:
    """Alice's keys to bob: in order, WINDOW in flight, a pause of RETRY after a refusal."""

    def __init__(self, alice: WireClient, bob: str, figures: PgFigures) -> None:
        self.alice = alice
        self.bob = bob
        self.figures = figures
        base = timestamp()
        self.due = deque(base + i for i in range(MESSAGES))
        self.paused_until = 0.0
        self.flight: deque[tuple[int, bool]] = deque()  # (key, sent after the fault was lifted)

    @property
    def done(self) -> bool:
        return len(self.figures.accepted) == MESSAGES

    def until(self, condition: Callable[[], bool]) -> None:
        """Deliver until `condition` holds, or every key is accepted."""
        deadline = time.monotonic() + GUARD
        while not (condition() or self.done):
            assert time.monotonic() < deadline, f"stuck: {self.figures.answers}"
            self._step()

    def _step(self) -> None:
        now = time.monotonic()
        sends = []
        while self.due and now >= self.paused_until and len(self.flight) < WINDOW:
            key = self.due.popleft()
            sends.append(ev.Send(self.alice.user, self.bob, key, f"message {key}"))
            lifted = bool(self.figures.lifted) and now > self.figures.lifted
            self.flight.append((key, lifted))
        if sends:
            self.alice.send(*sends)
        if not self.flight:
            self.alice.sync()  # nothing due yet: a round trip instead of a sleep
            return
        key, after_lifted = self.flight.popleft()
        answer = self.alice.next_event()
        name = answer_name(answer)
        self.figures.answers[name] += 1
        if after_lifted:
            self.figures.after_lifted[name] += 1
        if answer == ev.Accepted(self.bob, key):
            self.figures.accepted.append(key)
            self.figures.accepted_at.append(time.monotonic())
        elif name == "13/99":
            self.figures.refused_at.append(time.monotonic())
            self.paused_until = time.monotonic() + RETRY
            self.due.append(key)
        else:
            raise AssertionError(f"05 {key} answered {answer!r}")


class _Run:
    """A server on a fresh database, alice, bob, carol (who logs in during the fault) and
    the pinger, made by start(); everything stopped by close()."""

    def __init__(self, folder: Path, cluster: Cluster, args: tuple[str, ...] = ()) -> None:
        self.servers = ServerFactory(folder, Postgres(cluster))
        self.args = args
        self.clients: list[WireClient] = []
        self.figures = PgFigures()
        self.pinger: Pinger | None = None

    def start(self) -> None:
        self.server: ServerProcess = self.servers.start(extra_args=[*QUIET, *self.args])
        self.since = self.server.log_size()
        alice, self.bob = self.connect("alice"), self.connect("bob")
        alice.register()
        self.bob.register()
        carol = self.connect("carol")
        self.carol = carol.register()
        carol.leave()
        pinger = self.connect("pinger")
        pinger.register()  # the login timeout would close it during a long fault
        self.delivery = Delivery(alice, self.bob.user, self.figures)
        self.pinger = Pinger(pinger)
        self.pinger.start()

    def connect(self, name: str) -> WireClient:
        client = WireClient.connect(*self.server.address, name=name)
        self.clients.append(client)
        return client

    def log_in_during(self) -> None:
        """A 03 while the database is away: answered (13/99), never left without answer."""
        client = self.connect("carol")
        client.send(ev.Login(*self.carol))
        self.figures.logins[answer_name(client.next_event())] += 1
        client.close()

    def finish(self) -> PgFigures:
        """Every key accepted; bob's 06s counted; the pinger stopped; what the log said."""
        figures = self.figures
        self.delivery.until(lambda: False)
        while len(figures.received) < len(figures.accepted):
            event = self.bob.next_event()
            assert isinstance(event, ev.Deliver), event
            figures.received.append(event.ts)
        figures.received += [e.ts for e in self.bob.sync() if isinstance(e, ev.Deliver)]
        assert self.pinger is not None
        self.pinger.halt()
        figures.pings = self.pinger.pings
        figures.alive = self.server.running()
        figures.log_lines = [line for line in self.server.log_tail(100_000, self.since)
                             .splitlines() if any(word in line for word in SAID)]
        return figures

    def close(self) -> None:
        if self.pinger is not None and self.pinger.is_alive():
            self.pinger.halt()
        for client in self.clients:
            client.close()
        self.servers.close()


def _run(folder: Path, cluster: Cluster, fault: Callable[[_Run], None],
         args: tuple[str, ...] = ()) -> PgFigures:
    run = _Run(folder, cluster, args)
    try:
        run.start()
        run.delivery.until(lambda: len(run.figures.accepted) >= FAULT_AT)
        fault(run)
        return run.finish()
    finally:
        run.close()


def terminate_run(folder: Path, cluster: Cluster) -> PgFigures:
    """pg_terminate_backend() of the server's sessions while alice's burst is in flight: a
    node of a cluster (--cluster), so that its listening session is cut too."""
    def fault(run: _Run) -> None:
        run.figures.began = run.figures.lifted = time.monotonic()
        assert cluster.terminate(run.servers.db) >= 1
        run.log_in_during()

    return _run(folder, cluster, fault, ("--cluster",))


def restart_run(folder: Path, cluster: Cluster, seconds: float) -> PgFigures:
    """The cluster shut down (pg_ctl stop -m fast) for `seconds`, then started again on its
    port; alice keeps sending meanwhile. A lone server (no --cluster): it takes its
    advisory lock again once connected (storage._retake_role)."""
    def fault(run: _Run) -> None:
        run.figures.began = time.monotonic()
        cluster.shut_down()
        run.log_in_during()
        run.delivery.until(lambda: time.monotonic() - run.figures.began >= seconds)
        cluster.start_again()
        run.figures.lifted = time.monotonic()

    return _run(folder, cluster, fault)


def lock_run(folder: Path, cluster: Cluster, seconds: float) -> PgFigures:
    """Another session holds LOCK TABLE <queue> IN ACCESS EXCLUSIVE MODE for `seconds`."""
    def fault(run: _Run) -> None:
        holder = cluster.session(run.servers.db)
        try:
            with holder.cursor() as cursor:
                cursor.execute(f'LOCK TABLE "{Entry._meta.table_name}" '
                               "IN ACCESS EXCLUSIVE MODE")
            run.figures.began = time.monotonic()
            run.delivery.until(lambda: time.monotonic() - run.figures.began >= seconds)
            holder.rollback()
            run.figures.lifted = time.monotonic()
        finally:
            holder.close()

    return _run(folder, cluster, fault)
