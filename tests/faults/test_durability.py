"""--sync is what the database does on commit, as the database itself says (issue 15).

Before, --sync did nothing on PostgreSQL and the log said `sync=full` whatever
synchronous_commit the database was configured with: with it off, messages
answered 16 could be lost in a crash of PostgreSQL. Now the server sets it on
its own connections (libpq's options, so that a reconnection keeps it) and
logs what SHOW answers; on SQLite, what PRAGMA synchronous answers.
"""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest
from backends import Backend, Postgres
from wire import ServerFactory

EXPECTED = {
    ("sqlite", "full"): "synchronous=2,",
    ("sqlite", "normal"): "synchronous=1,",
    ("postgresql", "full"): "synchronous_commit=on,",
    ("postgresql", "normal"): "synchronous_commit=off,",
}
OPPOSITE = {"full": "off", "normal": "on"}


@pytest.mark.parametrize("sync", ["full", "normal"])
def test_durability_follows_sync(server_factory: ServerFactory, backend: Backend,
                                 sync: str) -> None:
    """The log shows the durability read back from the database, as --sync asks, even where
    the database's own default and the URL's options say the opposite."""
    db = server_factory.db
    if isinstance(backend, Postgres):
        name = urlparse(db).path.lstrip("/")
        backend.cluster.sql(f"ALTER DATABASE {name} SET synchronous_commit = {OPPOSITE[sync]}")
        db += "?options=" + quote(f"-c synchronous_commit={OPPOSITE[sync]}")
    server = server_factory.start(db=db, extra_args=("--sync", sync, "--log-level", "info"))
    lines = [line for line in server.log_tail().splitlines() if "(sync=" in line]
    assert len(lines) == 1, server.log_tail()
    assert f"(sync={sync}: {EXPECTED[backend.name, sync]}" in lines[0]
    assert "less durability than" not in server.log_tail()  # no warning that it is weaker
