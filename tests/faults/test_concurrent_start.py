"""Servers started at once on one empty database: the tables are made once, and all serve.

Issue 15: two servers started at once on an empty PostgreSQL database raced to
create the same tables, and one died of a duplicate key in pg_class (4 runs
in 6). Now an advisory lock makes the later one wait on PostgreSQL, and all
serve (issue 16: as nodes of one service). On SQLite one server serves and the
others are refused at start (exit code 3, storage/solo.py): SQLite cannot pass
messages between processes. Each round starts the servers together (one thread
each) on a fresh database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backends import SQLITE, Backend
from wire import ServerFactory, WireClient, timestamp

from shared import events as ev

ROUNDS = 3
"""Fresh databases, each with servers started at once: the race did not lose every time."""
SERVERS = 2


def test_concurrent_start_makes_the_tables_once(tmp_path: Path, backend: Backend) -> None:
    """Servers started at once on an empty PostgreSQL database all serve: register on
    each, message from one to a user of the other; on SQLite exactly one serves."""
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        factory = ServerFactory(folder, backend)
        clients: list[WireClient] = []
        try:
            if backend.name == SQLITE.name:
                with pytest.raises(AssertionError, match="exited with 3 before listening"):
                    factory.start_at_once(SERVERS)
                assert [server.running() for server in factory.started] == [True]
                continue
            first, second = factory.start_at_once(SERVERS)
            alice = WireClient.connect(*first.address, name="alice")
            bob = WireClient.connect(*second.address, name="bob")
            clients += [alice, bob]
            alice.register()
            bob.register()
            ts = timestamp()
            alice.send(ev.Send(alice.user, bob.user, ts, "across"))
            alice.expect_next(ev.Accepted(bob.user, ts))
            bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "across"))  # live
            bob.leave()  # unacknowledged: the queue at login sends it again
            again = WireClient.connect(*second.address, name="bob again")
            clients.append(again)
            again.login(*bob.credentials())
            again.expect_next(ev.Deliver(alice.user, bob.user, ts, "across"))
        finally:
            for client in clients:
                client.close()
            factory.print_logs()
            factory.close()
