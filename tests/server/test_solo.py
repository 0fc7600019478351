"""One server per SQLite file (storage/solo.py): a second server on the same file is
refused at start with exit code 3 and a message that says why; other programs that open
the file meanwhile (an admin tool, a reader) are not; a server killed by kill -9 leaves no
lock behind."""

import pytest
from backends import rows
from wire import ServerFactory

from interzap_server.storage import open_store

pytestmark = pytest.mark.sqlite_only("the refusal is SQLite's: PostgreSQL takes several nodes")


def test_solo_second_server_on_one_sqlite_file_is_refused(server_factory: ServerFactory) -> None:
    first = server_factory.start()
    with pytest.raises(AssertionError, match="exited with 3 before listening"):
        server_factory.start()
    log = (server_factory.folder / "server-2.log").read_text()
    assert f"another server (pid {first.pid}) already serves" in log, log
    assert "SQLite cannot pass messages between server processes" in log, log
    assert first.running()


def test_solo_other_programs_may_open_the_file(server_factory: ServerFactory) -> None:
    """A reader, and the store opened in process (as an admin tool would), are not refused."""
    server_factory.start()
    assert rows(server_factory.db, "SELECT COUNT(*) FROM user") == [(0,)]
    store = open_store(server_factory.db)
    try:
        assert not store.user_exists("Client-000001")
    finally:
        store.close()


def test_solo_a_killed_server_leaves_no_lock(server_factory: ServerFactory) -> None:
    server_factory.start().kill()
    assert server_factory.start().running()
