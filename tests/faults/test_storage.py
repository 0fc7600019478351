"""Storage faults: the disk fills up under the server; another process locks the database.

Each fault runs once per module (tests/faults/storage.py) and the tests check
one promise each on its figures. The promises (PROTOCOL.md 5.1, 5.3): a 05
whose write failed is answered 13/99, never 16; no 06 leaves for it; the loop
keeps answering what needs no write; the log says what failed; once the fault
is gone, the same key is accepted and delivered exactly once.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from client.clientkit import ClientProcess
from wire import ClientFactory, ServerFactory, timestamp

from faults.kit import SmallDisk, accounts, wait_unread
from faults.storage import DiskUnavailable, FaultFigures, full_disk_run, lock_run
from shared import events as ev

LOCK_SECONDS = 3.0
PING_BOUND = 1.0
"""Generous: the busy timeout is 0.2 s; a ping must never wait for a lock holder."""


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory: pytest.TempPathFactory) -> FaultFigures:
    try:
        return full_disk_run(tmp_path_factory.mktemp("full-disk"))
    except DiskUnavailable as exc:
        pytest.skip(f"needs a tiny file system to fill; mounting a tmpfs failed: {exc}")


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> FaultFigures:
    figures = lock_run(tmp_path_factory.mktemp("lock"), LOCK_SECONDS)
    print(f"lock held {figures.held:.2f} s: {len(figures.pings)} pings, max "
          f"{figures.ping_max * 1000:.1f} ms, median {figures.ping_median * 1000:.2f} ms; "
          f"05s answered {dict(figures.answers)}")
    return figures


def test_storage_full_disk_answers_99_never_16(full_disk: FaultFigures) -> None:
    """A 05 that cannot be stored on a full disk is answered 13/99, and no 06 leaves for it."""
    assert full_disk.answers and set(full_disk.answers) == {"13/99"}, full_disk.answers
    assert full_disk.delivered_during == 0


def test_storage_full_disk_keeps_serving(full_disk: FaultFigures) -> None:
    """With the disk full, pings and logins are still answered; a registration gets 13/99."""
    assert len(full_disk.pings) == sum(full_disk.answers.values())
    assert full_disk.ping_max < PING_BOUND
    assert len(full_disk.logins) == 1
    assert full_disk.registrations == {"13/99": 1}


def test_storage_full_disk_is_logged(full_disk: FaultFigures) -> None:
    """Every failed commit is an error line in the server's log."""
    assert len(full_disk.log_lines) >= sum(full_disk.answers.values()), full_disk.log_lines


def test_storage_full_disk_log_names_the_cause(full_disk: FaultFigures) -> None:
    """The log line for a failed commit says that the disk is full."""
    assert any("full" in line for line in full_disk.log_lines), full_disk.log_lines[:3]


def test_storage_full_disk_leaves_nothing_half_written(full_disk: FaultFigures) -> None:
    """After space is freed, each refused key is accepted and delivered once; the file is sound."""
    assert full_disk.resent_accepted == full_disk.resent > 0
    assert full_disk.missing == 0 and full_disk.twice == 0, full_disk.received
    assert full_disk.integrity == "ok"


def test_storage_lock_keeps_pings_fast(locked: FaultFigures) -> None:
    """While another process holds the database, no ping waits longer than a second."""
    assert locked.held >= LOCK_SECONDS
    assert len(locked.pings) > 100
    assert locked.ping_max < PING_BOUND, f"a ping waited {locked.ping_max:.3f} s"


def test_storage_lock_keeps_logins(locked: FaultFigures) -> None:
    """Logins go through while the database is locked (they only read)."""
    # one is tried every 0.5 s, between rounds that a refused 05 lengthens by the busy
    # timeout (0.2 s) and a ping behind it by as much: at least one a second gets its turn
    assert len(locked.logins) >= LOCK_SECONDS
    assert max(locked.logins) < PING_BOUND


def test_storage_lock_answers_99_never_16(locked: FaultFigures) -> None:
    """Every 05 and 01 during the lock gets 13/99; none gets 16 and no 06 leaves."""
    assert locked.answers and set(locked.answers) == {"13/99"}, locked.answers
    assert locked.registrations == {"13/99": 1}
    assert locked.delivered_during == 0
    assert len(locked.log_lines) >= sum(locked.answers.values())


def test_storage_lock_then_resend_delivers_once(locked: FaultFigures) -> None:
    """Once the lock is gone, each refused key is accepted and delivered exactly once."""
    assert locked.resent_accepted == locked.resent > 0
    assert locked.missing == 0 and locked.twice == 0
    assert locked.integrity == "ok"


def test_storage_full_disk_refused_receipt_confuses_no_client(
        server_factory: ServerFactory, client_factory: ClientFactory,
        processes: list[ClientProcess], tmp_path: Path) -> None:
    """A 12 and a 05 refused on a full disk: the client retries the 05 and reports no error."""
    try:
        disk = SmallDisk(tmp_path / "disk", 1 << 20)
    except OSError as exc:
        pytest.skip(f"needs a tiny file system to fill; mounting a tmpfs failed: {exc}")
    try:
        server = server_factory.start(db=disk.path / "interzap.db")
        data = tmp_path / "data"
        [(bob, _)] = accounts(server, data, 1)
        alice = client_factory.registered(server)
        b = ClientProcess(server.port, data, "--account", bob, "--timeout", "10")
        processes.append(b)
        b.expect("logged_in")
        os.kill(b.proc.pid, signal.SIGSTOP)
        ts = timestamp()
        alice.send(ev.Send(alice.user, bob, ts, "just before"))
        alice.expect_next(ev.Accepted(bob, ts))
        wait_unread(b.proc.pid)
        disk.fill()
        os.kill(b.proc.pid, signal.SIGCONT)
        b.expect("message")  # stored, and its 12 sent: into a batch that cannot commit
        b.send(f"/send {alice.user} while the disk is full")
        b.expect("warning")  # a 13/99: the 05 will be sent again ...
        b.expect("warning")  # ... and was, a second later: every earlier 13 has come
        disk.free()
        b.send(f"/wait accepted {alice.user}")
        status = b.finish()
        assert [e for e in b.events if e["event"] == "error"] == []
        assert status == 0
    finally:
        server_factory.stop_all()
        disk.unmount()
