"""Fixtures shared by the test suites: server subprocesses, their databases, raw wire clients.

A server is a real `python -m interzap_server` on 127.0.0.1, port 0, on a fresh
database; every process and socket a test opens is closed at teardown,
whatever happened.

The database comes from `backend`. Under the paths in BOTH_BACKENDS (the
server's end-to-end, hostile and kill suites) every test that starts a server
runs twice, `[sqlite]` and `[postgresql]`; the PostgreSQL runs share one
throwaway cluster per session (tests/postgres.py), with a database per test
(or per module, for the shared server). Elsewhere, and for a test marked
`sqlite_only`, servers run on an SQLite file in the test's temporary folder.
Without PostgreSQL's server binaries the `[postgresql]` runs are skipped, with
one line saying how to get them, except under CI (CI=true), where they fail.

Starting a server costs far more than most tests, so a test that does not ask
for `server` (a fresh one) talks through `client_factory` to a server shared by
its module. Such tests must not depend on the database being empty: they
register their own users. A shared server that died is replaced for the next
test, so one crash fails one test.
"""

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from backends import NAMES, SQLITE, Backend, Postgres
from postgres import INSTALL_HINT, Cluster, find_bindir
from wire import ClientFactory, ServerFactory, ServerProcess

TESTS = Path(__file__).resolve().parent
BOTH_BACKENDS = ("server", "hostile", "faults/test_server_kill.py",
                 "faults/test_concurrent_start.py", "faults/test_durability.py")
"""Paths under tests/ whose servers run on every backend; the client's suites and the other
fault suites (SQLite's lock, a full disk, the client's own files) run on SQLite only, and
PostgreSQL's own faults (faults/test_postgresql_faults.py) on PostgreSQL only."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): this test's servers run on SQLite only, because ...")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that starts a server (asks for `backend`, often through
    `server_factory` or `shared_server`) on each backend, where BOTH_BACKENDS says so."""
    if "backend" not in metafunc.fixturenames:
        return
    relative = metafunc.definition.path.relative_to(TESTS).as_posix()
    on_both = any(relative == path or relative.startswith(path + "/") for path in BOTH_BACKENDS)
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
    assert sqlite_only is None or sqlite_only.args, "sqlite_only needs its reason"
    if on_both and sqlite_only is None:
        # module scope: a module's tests run on SQLite, then on PostgreSQL, each group
        # with its own shared server
        metafunc.parametrize("backend", NAMES, indirect=True, scope="module")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None],
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Fold the skips for want of PostgreSQL into one line of the summary: pytest folds
    skips of the same place and reason, and would name each test's place."""
    report = yield
    if (report.skipped and isinstance(report.longrepr, tuple)
            and INSTALL_HINT in report.longrepr[2]):
        report.longrepr = (__file__, None, report.longrepr[2])  # type: ignore[assignment]
    return report


def _throwaway_cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(INSTALL_HINT)
    cluster = Cluster.start(bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """The session's throwaway PostgreSQL cluster, started on first use."""
    yield from _throwaway_cluster()


@pytest.fixture(scope="module")
def own_postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for one module, which may shut it down and start it
    again (the session's cluster must stay up for the others)."""
    yield from _throwaway_cluster()


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> Backend:
    """Where servers keep their data: SQLite unless parametrized (pytest_generate_tests)."""
    name = getattr(request, "param", SQLITE.name)
    if name == Postgres.name:
        return Postgres(request.getfixturevalue("postgres_cluster"))
    return SQLITE


@pytest.fixture
def server_factory(tmp_path: Path, backend: Backend) -> Iterator[ServerFactory]:
    """Start servers (and restart them) on the same fresh database; all stopped by pid."""
    factory = ServerFactory(tmp_path, backend)
    try:
        yield factory
    finally:
        try:
            factory.close()
        finally:
            factory.print_logs()


@pytest.fixture
def server(server_factory: ServerFactory) -> ServerProcess:
    """A fresh server on a fresh database."""
    return server_factory.start()


@pytest.fixture(scope="module")
def _module_servers(tmp_path_factory: pytest.TempPathFactory,
                    backend: Backend) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path_factory.mktemp("module-server"), backend)
    try:
        yield factory
    finally:
        factory.close()


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
def client_factory(request: pytest.FixtureRequest, backend: Backend) -> Iterator[ClientFactory]:
    """WireClients, closed at teardown; by default to `server` if the test asked for it,
    else to the module's shared server (on `backend`: named here so that a test that asks
    for this fixture alone runs on each backend too)."""
    default = "server" if "server" in request.fixturenames else "shared_server"
    factory = ClientFactory(lambda: request.getfixturevalue(default))
    try:
        yield factory
    finally:
        factory.close_all()
