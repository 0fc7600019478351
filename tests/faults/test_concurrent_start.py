"""Servers started at once on one empty database: the tables are made once, and all serve.

Issue 15: two servers started at once on an empty PostgreSQL database raced to
create the same tables, and one died of a duplicate key in pg_class (4 runs
in 6). Now an advisory lock makes the later one wait on PostgreSQL; on SQLite
the file's own lock does, with a long busy timeout while the tables are made.
Each round starts the servers together (one thread each) on a fresh database.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from backends import Backend
from wire import ServerFactory, ServerProcess, WireClient, timestamp

from shared import events as ev

ROUNDS = 3
"""Fresh databases, each with servers started at once: the race did not lose every time."""
SERVERS = 2


def start_at_once(factory: ServerFactory, count: int) -> list[ServerProcess]:
    """`count` servers on the factory's database, their processes started together."""
    def start(index: int) -> ServerProcess:
        return ServerProcess(factory.db, log_path=factory.folder / f"server-{index}.log",
                             log_level="info")

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(start, index) for index in range(1, count + 1)]
    # every process that started is stopped at the end, whichever one failed
    started = [future.result() for future in futures if future.exception() is None]
    factory.started += started
    for future in futures:
        future.result()  # raises the first failure: its log is in the message
    return started


def test_concurrent_start_makes_the_tables_once(tmp_path: Path, backend: Backend) -> None:
    """Servers started at once on an empty database all serve: register on each, message
    from one to a user of the other."""
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        factory = ServerFactory(folder, backend)
        clients: list[WireClient] = []
        try:
            first, second = start_at_once(factory, SERVERS)
            alice = WireClient.connect(*first.address, name="alice")
            bob = WireClient.connect(*second.address, name="bob")
            clients += [alice, bob]
            alice.register()
            bob.register()
            ts = timestamp()
            alice.send(ev.Send(alice.user, bob.user, ts, "across"))
            alice.expect_next(ev.Accepted(bob.user, ts))
            bob.leave()  # the other server sends nothing live: the queue at login does
            again = WireClient.connect(*second.address, name="bob again")
            clients.append(again)
            again.login(*bob.credentials())
            again.expect_next(ev.Deliver(alice.user, bob.user, ts, "across"))
        finally:
            for client in clients:
                client.close()
            factory.print_logs()
            factory.close()
