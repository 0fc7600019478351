"""Presence after a crash (PROTOCOL.md 5.14): a server killed with users online leaves
their rows online; the next start marks them offline, last seen when the killed run was
last known alive (its heartbeat), on SQLite and PostgreSQL; a database of an earlier
version gets the column and the table this needs in place."""

import time
from pathlib import Path

from backends import Backend
from wire import ClientFactory, ServerFactory, timestamp

from interzap_server.rules.accounts import hash_token
from interzap_server.storage import open_admin, open_store
from server.test_presence import chat, presence
from shared import events as ev

BEATS = 2
"""Heartbeats (seconds) the killed server writes after bob's login, so that his last seen
cannot be his login."""
GUARD = 20.0
"""Seconds to wait for a heartbeat: a guard only (there is one a second)."""


def heartbeat_after(db: str, second: int) -> int:
    """The newest heartbeat in the database once one is at `second` or later."""
    admin = open_admin(db)
    deadline = time.monotonic() + GUARD
    try:
        while time.monotonic() < deadline:
            (alive,) = admin._runner.one('SELECT MAX("alive") FROM "heartbeat"') or (None,)
            if alive is not None and alive >= second:
                return int(alive)
            time.sleep(0.05)  # polling the database: the server says nothing on the wire
    finally:
        admin.close()
    raise AssertionError(f"no heartbeat at {second} or later within {GUARD} s")


def test_presence_crash_last_seen_is_the_killed_runs_last_heartbeat(
        server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """kill -9 with bob online, some heartbeats after his login: started again, a 29 says
    bob was last seen at the killed run's last heartbeat (not his login, not ONLINE), and
    the log says once how many were left online."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    login = timestamp()
    chat(alice, bob)
    assert presence(alice, bob.user) == ev.ONLINE
    last = heartbeat_after(str(server.db), login + BEATS)
    server.kill()
    restarted = server_factory.start()
    again = client_factory.logged_in(*alice.credentials(), restarted)
    assert last <= presence(again, bob.user) <= last + 1  # one more beat before the kill
    said = [line for line in restarted.log_tail().splitlines() if "left online" in line]
    assert len(said) == 1 and "2 users" in said[0], said  # alice and bob


def test_presence_crash_old_database_gets_the_node_column(backend: Backend,
                                                          tmp_path: Path) -> None:
    """A presence table without `node` and no heartbeat table (before session 8), a user
    left online: the next start adds both, and says the user offline since that start
    (nothing better is known); a second start finds everything there."""
    db = backend.create(tmp_path)
    try:
        store = open_store(db)
        with store.batch():
            user = store.register(hash_token("0" * 32), 1000)
            store.presence.arrived(user, 1000)
        with store.batch():  # back to the tables of session 7
            store._runner.run('DROP INDEX "presence_node"')
            store._runner.run('ALTER TABLE "presence" DROP COLUMN "node"')
            store._runner.run('DROP TABLE "heartbeat"')
        store.close()
        started = timestamp()
        for _ in range(2):
            store = open_store(db)
            try:
                with store.batch():
                    seen = store.presence.of(user)
                    assert seen is not None and not seen.online
                    assert started <= seen.seen <= timestamp()
                    store.presence.arrived(user, started)
                    assert store.presence.beat() == []  # its first: nobody to bring back
            finally:
                store.close()
    finally:
        backend.drop(db)
