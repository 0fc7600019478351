"""PostgreSQL's own faults, on PostgreSQL only: the server's session terminated, the cluster
shut down and started again, a table locked by another session; and, closer up, how the
runner connects again and how one frame is undone alone (test_postgresql_runner.py).

The promises (PROTOCOL.md 5.1, 5.3; issue 15): the server lives on; every frame
that waits for an answer gets one (13/99 for what needed the database); no 16
for what was not committed; pings are answered throughout; the database is
asked again with backoff, not per frame, and the log says so once; once it is
back, every refused key is accepted and delivered exactly once, in order. Each
fault runs once per module (tests/faults/pgfaults.py); each test checks one
promise on its figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import Postgres
from postgres import Cluster
from wire import ServerFactory, WireClient, timestamp

from faults.pgfaults import MESSAGES, PgFigures, lock_run, restart_run, terminate_run
from interzap_server.storage import LOCK_TIMEOUT
from interzap_server.storage.models import MessageKey
from shared import events as ev

RESTART_SECONDS = 5.0
LOCK_SECONDS = 3.0
PING_BOUND = 0.3
"""A ping's round trip, at most: about two lock timeouts (a batch waits once at most)."""
LOST, BACK = "lost the connection to the database", "connected to the database again"
HEARD_LOST = "lost the connection that hears the other nodes"
HEARD_BACK = "listening to the other nodes again"


def show(name: str, figures: PgFigures) -> PgFigures:
    print(f"{name}: fault {figures.held:.2f} s; answers {dict(figures.answers)}; "
          f"no 16 for {figures.without_16:.2f} s, {figures.back_to_16:.2f} s of it after "
          f"the fault; {figures.accepted_during} accepted during it; pings "
          f"{len(figures.pings)}, max {figures.ping_max() * 1000:.1f} ms (during the "
          f"fault {figures.ping_max(during_only=True) * 1000:.1f} ms); logins "
          f"{dict(figures.logins)}; log: {figures.log_lines}")
    return figures


@pytest.fixture(scope="module")
def terminated(tmp_path_factory: pytest.TempPathFactory,
               postgres_cluster: Cluster) -> PgFigures:
    return show("terminated", terminate_run(tmp_path_factory.mktemp("terminate"),
                                            postgres_cluster))


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory,
              own_postgres_cluster: Cluster) -> PgFigures:
    return show("restarted", restart_run(tmp_path_factory.mktemp("restart"),
                                         own_postgres_cluster, RESTART_SECONDS))


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory, postgres_cluster: Cluster) -> PgFigures:
    return show("locked", lock_run(tmp_path_factory.mktemp("lock"), postgres_cluster,
                                   LOCK_SECONDS))


def said(figures: PgFigures, words: str) -> int:
    return sum(words in line for line in figures.log_lines)


# -- the server's session terminated mid-burst -------------------------------------------

def test_postgres_terminated_server_lives_and_answers(terminated: PgFigures) -> None:
    """A terminated session kills nothing: every 05 and a 03 are answered; pings go on."""
    assert terminated.alive
    assert set(terminated.answers) == {"16", "13/99"}, terminated.answers
    assert terminated.logins == {"13/99": 1}
    assert terminated.ping_max() < PING_BOUND


def test_postgres_terminated_delivers_each_once_in_order(terminated: PgFigures) -> None:
    """Every key is accepted in the end, and bob holds each once, in the order of its 16."""
    assert len(terminated.accepted) == MESSAGES
    assert terminated.received == terminated.accepted


def test_postgres_terminated_is_logged_once(terminated: PgFigures) -> None:
    """One line when the connection is lost, one when it is back; none per frame. The
    same for the connection that hears the other nodes (a node of a cluster: issue 16),
    terminated too."""
    assert said(terminated, LOST) == 1 and said(terminated, BACK) == 1
    assert said(terminated, HEARD_LOST) == 1 and said(terminated, HEARD_BACK) == 1
    assert len(terminated.log_lines) == 4, terminated.log_lines


def test_postgres_terminated_reconnects_after_backoff(terminated: PgFigures) -> None:
    """The first try to connect again waits half a second, and succeeds."""
    assert 0.4 < terminated.back_to_16 < 2.0


# -- the cluster shut down and started again ---------------------------------------------

def test_postgres_restart_keeps_answering_pings(restarted: PgFigures) -> None:
    """While the database is down, pings are answered within 300 ms; 03s get 13/99."""
    assert restarted.alive
    assert restarted.held >= RESTART_SECONDS
    assert restarted.ping_max(during_only=True) < PING_BOUND
    assert restarted.logins == {"13/99": 1}


def test_postgres_restart_delivers_each_once_in_order(restarted: PgFigures) -> None:
    """After the restart every key is accepted, and bob holds each once, in order."""
    assert set(restarted.answers) == {"16", "13/99"}
    assert len(restarted.accepted) == MESSAGES
    assert restarted.received == restarted.accepted


def test_postgres_restart_is_logged_once(restarted: PgFigures) -> None:
    """One line when the connection is lost, one when it is back, whatever the tries (a lone
    server: no connection hears other nodes, and its lock is taken again in silence)."""
    assert said(restarted, LOST) == 1 and said(restarted, BACK) == 1
    assert len(restarted.log_lines) == 2, restarted.log_lines


# -- a table locked by another session ---------------------------------------------------

def test_postgres_lock_keeps_pings_fast(locked: PgFigures) -> None:
    """While another session holds the queue's table, no ping waits 300 ms."""
    assert locked.held >= LOCK_SECONDS
    assert len(locked.pings) > 100
    assert locked.ping_max(during_only=True) < PING_BOUND


def test_postgres_lock_gives_no_16_for_what_was_not_committed(locked: PgFigures) -> None:
    """Every 05 gets 16 or 13/99, and bob holds each 16'd key once, in order: no 16 for a
    message that was not stored."""
    assert set(locked.answers) == {"16", "13/99"}
    assert locked.received == locked.accepted
    assert len(locked.accepted) == MESSAGES


def test_postgres_lock_released_accepts_everything_sent_after(locked: PgFigures) -> None:
    """Once the lock is gone, every 05 sent is accepted at once."""
    assert locked.after_lifted and set(locked.after_lifted) == {"16"}, locked.after_lifted


def test_postgres_lock_is_logged_when_it_starts(locked: PgFigures) -> None:
    """The log names the lock when it starts, not once per refused frame."""
    assert any("lock held elsewhere" in line for line in locked.log_lines)
    assert len(locked.log_lines) <= 2, locked.log_lines


# -- closer up ---------------------------------------------------------------------------

def test_postgres_lock_at_the_flush_fails_the_batch_and_each_resend_is_accepted_once(
        tmp_path: Path, postgres_cluster: Cluster) -> None:
    """A 12 and a 05 in one batch, whose writes (buffered, written at the commit) meet a
    lock: the batch rolls back as one, the 05 gets 13/99 and no 16, the 12 no 07; each
    sent again after the release is accepted once."""
    servers = ServerFactory(tmp_path, Postgres(postgres_cluster))
    clients: list[WireClient] = []
    holder = None
    try:
        server = servers.start()
        alice, bob = (WireClient.connect(*server.address, name=n) for n in ("alice", "bob"))
        clients += [alice, bob]
        alice.register()
        bob.register()
        ts = timestamp()
        alice.send(ev.Send(alice.user, bob.user, ts, "first"))
        alice.expect_next(ev.Accepted(bob.user, ts))
        bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "first"))
        holder = postgres_cluster.session(servers.db)
        with holder.cursor() as cursor:  # new keys wait; reading them does not
            cursor.execute(f'LOCK TABLE "{MessageKey._meta.table_name}" IN EXCLUSIVE MODE')
        bob.send(ev.Receipt(alice.user, bob.user, ts), ev.Send(bob.user, alice.user, ts, "x"))
        bob.expect_error(99, timeout=10 * LOCK_TIMEOUT + 5)
        holder.rollback()
        bob.send(ev.Send(bob.user, alice.user, ts, "x"))
        bob.expect_next(ev.Accepted(alice.user, ts))
        alice.expect_next(ev.Deliver(bob.user, alice.user, ts, "x"))  # no 07 came before
        bob.send(ev.Receipt(alice.user, bob.user, ts))
        alice.expect_next(ev.Delivered(bob.user, ts))
        alice.assert_silent()  # one 06 and one 07: nothing came twice
        bob.assert_silent()
    finally:
        if holder is not None:
            holder.close()
        for client in clients:
            client.close()
        servers.print_logs()
        servers.close()
