"""kill -9 of the server while real clients chat, at random moments (tests/faults/killrun.py),
and the one kind of frame such a kill can still lose.

tests/server/test_restart.py kills the server under one raw sender; here a
fleet of real scripted clients (reconnecting, resending their outbox with the
same keys) chats 1:1 and in groups through several kills, and the figures come
from their history files.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from backends import Backend
from wire import ClientFactory, ServerFactory, timestamp

from faults.killrun import KillRunSize, kill_run
from faults.kit import slow_reader, wait_unread
from shared import events as ev


def test_server_kill_run_loses_nothing(tmp_path: Path, backend: Backend) -> None:
    """6 clients, 2 kills at random moments: nothing lost or stored twice; every 09 comes."""
    seed = int(os.environ.get("FAULTS_SEED", random.randrange(1 << 30)))
    size = KillRunSize(clients=6, kills=2, per_round=8, seed=seed)
    figures = kill_run(tmp_path, size, backend)
    print(figures)  # shown when the test fails, with the seed to run it again
    assert figures.problems == [], f"seed {seed}"
    assert figures.accepted == figures.sent > 0
    assert figures.lost == [] and figures.stored == figures.copies
    assert figures.twice == []
    assert figures.no_read == []
    assert len(figures.first_login) == len(figures.all_back) == 2
    assert figures.no_delivered == []


def test_server_kill_keeps_delivered_written_but_not_received(
        server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """A 07 written but not yet received when the server is killed comes at the next login."""
    server = server_factory.start()
    bob = client_factory.registered(server)
    alice = slow_reader(server)
    client_factory.clients.append(alice)
    alice.register()
    # alice sends a burst and reads nothing: her 16s fill her small window, the rest waits
    # in the server's socket buffer, and the 07 is queued behind them
    base = timestamp() - 1000
    burst = 600
    alice.send(*(ev.Send(alice.user, bob.user, base + i, f"n{i}") for i in range(burst)))
    for i in range(burst):
        bob.expect_next(ev.Deliver(alice.user, bob.user, base + i, f"n{i}"))
    bob.send(ev.Receipt(alice.user, bob.user, base))  # 07 for the first one
    bob.sync()  # the 07 (and the 14 that would confirm it) is written to alice's socket
    os.kill(server.pid, signal.SIGSTOP)
    alice.send(ev.Ping())  # input the server never reads: its close will be a reset
    wait_unread(server.pid)
    server.kill()
    arrived = alice.drain_until_closed()
    assert ev.Delivered(bob.user, base) not in arrived  # it had not reached alice
    restarted = server_factory.start(port=server.port)
    again = client_factory.logged_in(*alice.credentials(), restarted)
    owed = again.sync()
    assert ev.Delivered(bob.user, base) in owed, owed[:5]
