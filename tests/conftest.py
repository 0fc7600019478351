"""Fixtures shared by the test suites: server subprocesses and raw wire clients.

A server is a real `python -m interzap_server` on 127.0.0.1, port 0, with an
SQLite file in a temporary folder; every process and socket a test opens is
closed at teardown, whatever happened.

Starting a server costs far more than most tests, so a test that does not ask
for `server` (a fresh one) talks through `client_factory` to a server shared by
its module. Such tests must not depend on the database being empty: they
register their own users. A shared server that died is replaced for the next
test, so one crash fails one test.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from wire import ClientFactory, ServerFactory, ServerProcess


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers (and restart them) on the same database file; all stopped by pid."""
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()
        factory.print_logs()


@pytest.fixture
def server(server_factory: ServerFactory) -> ServerProcess:
    """A fresh server on a fresh SQLite file."""
    return server_factory.start()


@pytest.fixture(scope="module")
def _module_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path_factory.mktemp("module-server"))
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def shared_server(_module_servers: ServerFactory) -> Iterator[ServerProcess]:
    """A server shared by the tests of one module (replaced if it died)."""
    server = _module_servers.running()
    start = server.log_size()
    yield server
    # shown by pytest only when the test failed
    print(f"--- {server.log_path} (pid {server.pid}), during this test ---\n"
          f"{server.log_tail(200, since=start)}")


@pytest.fixture
def client_factory(request: pytest.FixtureRequest) -> Iterator[ClientFactory]:
    """WireClients, closed at teardown; by default to `server` if the test asked for it,
    else to the module's shared server."""
    default = "server" if "server" in request.fixturenames else "shared_server"
    factory = ClientFactory(lambda: request.getfixturevalue(default))
    try:
        yield factory
    finally:
        factory.close_all()
