"""Storage faults, as runs that return figures: the database held locked by another
process, and a disk that fills up under the server.

Used by tests/faults/test_storage.py (which asserts on the figures) and by
soak/faults.py (which prints them). Raw WireClients only, so every frame is
seen: a 05 answered with anything but 16 or 13/99, or a 06 that reaches the
recipient for a message the server did not commit, shows in the figures.

Theory of operation: the fault lasts a fixed time (the lock) or until the test
lifts it (the full disk). Meanwhile a 05 goes out every few rounds and a ping
every round; a ping's round trip is how long the loop made everyone wait.
After the fault every refused 05 is sent again with the same key, and the
recipient must get each exactly once.

SQLite only, by nature: the lock is SQLite's own (another connection's BEGIN
EXCLUSIVE on the server's file), the full disk is the file system under the
SQLite file, and the integrity check is SQLite's PRAGMA; so these runs open
the file behind the store's back on purpose. PostgreSQL's faults (a lost
connection, a restart, a lock held elsewhere) are pgfaults.py's.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wire import ServerFactory, ServerProcess, WireClient, timestamp

from faults.kit import SmallDisk
from shared import events as ev

QUIET = ("--log-level", "info")
"""The log says what failed without a line per query."""
STORAGE_FAILED = ("rolling the batch back", "13/99")
"""What the server's log says when a write or a commit failed."""


def answer_name(event: ev.Event) -> str:
    """16, 13/99, ... : how a frame answered a 05 (or a 01)."""
    if isinstance(event, ev.Error):
        return f"13/{int(event.code):02d}"
    if isinstance(event, ev.Accepted):
        return "16"
    return type(event).__name__


@dataclass(slots=True)
class FaultFigures:
    """What happened during one storage fault and after it was lifted."""

    held: float = 0.0
    """Seconds the fault lasted."""
    pings: list[float] = field(default_factory=list)
    """Round trips of a ping (14 -> 15) during the fault, seconds."""
    answers: Counter[str] = field(default_factory=Counter)
    """How the 05s sent during the fault were answered."""
    registrations: Counter[str] = field(default_factory=Counter)
    """How 01s sent during the fault were answered."""
    logins: list[float] = field(default_factory=list)
    """Seconds from 03 to 04 for logins during the fault."""
    receipt_answers: list[str] = field(default_factory=list)
    """Frames that came back to a 12 sent during the fault."""
    delivered_during: int = 0
    """06s that reached the online recipient during the fault."""
    resent: int = 0
    """Keys refused during the fault and sent again afterwards."""
    resent_accepted: int = 0
    received: Counter[int] = field(default_factory=Counter)
    """ts -> how often the recipient got the 06 after the fault (each must be 1)."""
    log_lines: list[str] = field(default_factory=list)
    """The server's log lines about failed writes, during the fault."""
    integrity: str = ""
    """PRAGMA integrity_check afterwards."""

    @property
    def ping_max(self) -> float:
        return max(self.pings, default=0.0)

    @property
    def ping_median(self) -> float:
        return statistics.median(self.pings) if self.pings else 0.0

    @property
    def twice(self) -> int:
        return sum(n - 1 for n in self.received.values() if n > 1)

    @property
    def missing(self) -> int:
        return self.resent - sum(1 for n in self.received.values() if n)


class DiskUnavailable(Exception):
    """No small file system could be mounted here (not root, or no mount(8))."""


class _Run:
    """The clients of one fault run: alice writes to bob; carol logs in now and then."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.clients: list[WireClient] = []
        self.alice = self.connect("alice")
        self.alice.register()
        self.bob = self.connect("bob")
        self.bob.register()
        carol = self.connect("carol")
        self.carol = carol.register()
        carol.leave()
        self.pinger = self.connect("pinger")
        self.base = timestamp()
        self.keys: list[int] = []

    def connect(self, name: str) -> WireClient:
        client = WireClient.connect(*self.server.address, name=name)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def send(self, figures: FaultFigures) -> None:
        """A new message alice -> bob, and how it was answered."""
        ts = self.base + len(self.keys)
        self.keys.append(ts)
        self.alice.send(ev.Send(self.alice.user, self.bob.user, ts, f"message {ts}"))
        figures.answers[answer_name(self.alice.next_event())] += 1

    def ping(self, figures: FaultFigures) -> None:
        sent = time.monotonic()
        self.pinger.send(ev.Ping())
        self.pinger.expect_next(ev.Pong())
        figures.pings.append(time.monotonic() - sent)

    def log_in(self, figures: FaultFigures) -> None:
        client = self.connect("carol")
        sent = time.monotonic()
        client.login(*self.carol)
        figures.logins.append(time.monotonic() - sent)
        client.leave()

    def register(self, figures: FaultFigures) -> None:
        client = self.connect("newcomer")
        client.send(ev.Register())
        figures.registrations[answer_name(client.next_event())] += 1

    def during(self, figures: FaultFigures) -> None:
        """After the fault's traffic: did anything reach bob that should not have?"""
        figures.delivered_during = sum(isinstance(e, ev.Deliver) for e in self.bob.sync())

    def resend_all(self, figures: FaultFigures) -> None:
        """Every key again, after the fault: each must be accepted and delivered once."""
        refused = list(self.keys)
        figures.resent = len(refused)
        for ts in refused:
            self.alice.send(ev.Send(self.alice.user, self.bob.user, ts, f"message {ts}"))
        for ts in refused:
            self.alice.expect(ev.Accepted(self.bob.user, ts))
            figures.resent_accepted += 1
        while sum(figures.received.values()) < len(refused):
            self._count(figures, self.bob.next_event())
        for event in self.bob.sync():  # anything more before the pong is a duplicate
            self._count(figures, event)

    def _count(self, figures: FaultFigures, event: ev.Event) -> None:
        if isinstance(event, ev.Deliver):
            figures.received[event.ts] += 1
            self.bob.send(ev.Receipt(event.src, event.dst, event.ts))

    def log_lines(self, since: int) -> list[str]:
        text = self.server.log_tail(100_000, since=since)
        return [line for line in text.splitlines() if any(s in line for s in STORAGE_FAILED)]


def lock_run(folder: Path, seconds: float = 3.0, send_gap: float = 0.01,
             login_gap: float = 0.5) -> FaultFigures:
    """Another process holds the database with BEGIN EXCLUSIVE for `seconds`.

    Pings go back to back; a new 05 every `send_gap` seconds and a login every
    `login_gap` seconds (the clock paces the traffic; nothing waits on it).
    """
    figures = FaultFigures()
    servers = ServerFactory(folder)
    run: _Run | None = None
    holder: sqlite3.Connection | None = None
    try:
        server = servers.start(extra_args=QUIET)
        run = _Run(server)
        since = server.log_size()
        # a wait as a guard only: the server may be committing carol's last seen (she
        # just left), a write of a few milliseconds
        holder = sqlite3.connect(servers.db, timeout=5.0, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        locked = last_send = last_login = time.monotonic()
        run.log_in(figures)
        while (now := time.monotonic()) - locked < seconds:
            if now - last_send >= send_gap:
                last_send = now
                run.send(figures)
            if now - last_login >= login_gap:
                last_login = now
                run.log_in(figures)
            run.ping(figures)
        run.register(figures)
        run.during(figures)
        holder.rollback()
        figures.held = time.monotonic() - locked
        holder.close()
        holder = None
        figures.log_lines = run.log_lines(since)
        run.resend_all(figures)
        figures.integrity = integrity(servers.db)
    finally:
        if holder is not None:
            holder.close()
        if run is not None:
            run.close()
        servers.stop_all()
    return figures


def full_disk_run(folder: Path, sends: int = 20) -> FaultFigures:
    """The database's file system fills up, then is freed again."""
    try:
        disk = SmallDisk(folder / "disk", 1 << 20)
    except OSError as exc:
        raise DiskUnavailable(str(exc)) from exc
    figures = FaultFigures()
    servers = ServerFactory(folder)
    run: _Run | None = None
    try:
        server = servers.start(db=disk.path / "interzap.db", extra_args=QUIET)
        run = _Run(server)
        # one message before the fault, whose 12 bob will send while the disk is full
        before = run.base - 1
        run.alice.send(ev.Send(run.alice.user, run.bob.user, before, "before"))
        run.alice.expect_next(ev.Accepted(run.bob.user, before))
        run.bob.expect_next(ev.Deliver(run.alice.user, run.bob.user, before, "before"))
        since = server.log_size()
        disk.fill()
        filled = time.monotonic()
        for _ in range(sends):
            run.send(figures)
            run.ping(figures)
        run.log_in(figures)
        run.register(figures)
        run.bob.send(ev.Receipt(run.alice.user, run.bob.user, before))  # a write, too
        figures.receipt_answers = [answer_name(e) for e in run.bob.sync()]
        run.during(figures)
        disk.free()
        figures.held = time.monotonic() - filled
        figures.log_lines = run.log_lines(since)
        run.resend_all(figures)
        # the 12 refused during the fault, sent again: its 07 must come now
        run.bob.send(ev.Receipt(run.alice.user, run.bob.user, before))
        run.alice.expect(ev.Delivered(run.bob.user, before))
        figures.integrity = integrity(disk.path / "interzap.db")
    finally:
        if run is not None:
            run.close()
        servers.stop_all()
        disk.unmount()
    return figures


def integrity(db: Path | str) -> str:
    """SQLite's own check of the file, read-only."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return ", ".join(row[0] for row in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()
