"""The statement runner on PostgreSQL, closer up: how one frame is undone alone, how it
connects again after a loss, and how it joins statements into round trips (runner.py):
BEGIN with the first statement, the writes of the commit's flush with the COMMIT, and
the NOTIFY right after it, outside the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import peewee
import pytest
from playhouse.db_url import connect
from postgres import Cluster

from interzap_server.storage.prepared import REPLAN
from interzap_server.storage.runner import ConnectionLost, Runner, StorageError


@dataclass
class Rig:
    """A runner with savepoints on a database of its own; the clock it reads, which the test
    moves; and how often it connected since it was made."""

    runner: Runner
    url: str
    now: float = 0.0
    tries: int = 0


@pytest.fixture
def rig(postgres_cluster: Cluster) -> Iterator[Rig]:
    url = postgres_cluster.create_database()
    db: peewee.Database = connect(url)
    db.connect()
    rig = Rig(Runner(db, savepoints=True, clock=lambda: rig.now), url)
    real_connect = db.connect

    def counted(reuse_if_open: bool = False) -> bool:
        rig.tries += 1
        return real_connect(reuse_if_open)

    db.connect = counted  # type: ignore[method-assign]
    try:
        yield rig
    finally:
        rig.runner.close()
        postgres_cluster.drop_database(url)


def test_postgres_runner_savepoint_undoes_one_frame_alone(rig: Rig) -> None:
    """A failed statement is undone back to its savepoint; the rest of the transaction
    commits."""
    runner = rig.runner
    runner.run("CREATE TABLE t (k integer PRIMARY KEY)")
    runner.begin()
    for key in (1, 1, 2):  # three frames, the second one fails
        runner.savepoint()
        try:
            runner.run("INSERT INTO t VALUES (%s)", key)
        except StorageError:
            assert runner.rollback_to_savepoint()
    runner.commit()
    assert runner.rows("SELECT k FROM t ORDER BY k") == [(1,), (2,)]


def test_postgres_runner_never_commits_an_aborted_transaction(rig: Rig) -> None:
    """PostgreSQL takes COMMIT after a failed statement for ROLLBACK without a word: the
    runner says it, and nothing is kept."""
    runner = rig.runner
    runner.run("CREATE TABLE t (k integer PRIMARY KEY)")
    runner.begin()
    runner.run("INSERT INTO t VALUES (1)")
    with pytest.raises(StorageError):
        runner.run("INSERT INTO t VALUES (1)")
    with pytest.raises(StorageError, match="aborted"):
        runner.commit()
    assert runner.rows("SELECT k FROM t") == []


def test_postgres_runner_connects_again_with_backoff(rig: Rig,
                                                     postgres_cluster: Cluster) -> None:
    """After the loss, no try before 0.5 s; a failed try doubles the wait; then it is back."""
    runner, name = rig.runner, rig.runner.db.database
    assert postgres_cluster.terminate(rig.url) == 1
    runner.begin()  # BEGIN waits for the first statement (roundtrips.py)
    with pytest.raises(ConnectionLost):
        runner.run("SELECT 1")  # the loss is found here
    postgres_cluster.sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    for now, tries in ((0.49, 0), (0.5, 1), (1.49, 1), (1.5, 2), (3.49, 2)):
        rig.now = now
        with pytest.raises(ConnectionLost):
            runner.run("SELECT 1")  # statements never try: only begin() does
        with pytest.raises(ConnectionLost):
            runner.begin()
        assert rig.tries == tries, now
    postgres_cluster.sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    rig.now = 3.5
    runner.begin()
    assert runner.one("SELECT 1") == (1,)
    runner.commit()
    assert rig.tries == 3


def backend_state(cluster: Cluster, pid: int) -> str:
    """What PostgreSQL says a session is doing: 'idle', 'idle in transaction'."""
    return str(cluster.sql("SELECT state FROM pg_stat_activity WHERE pid = %s", pid)[0][0])


def test_postgres_runner_sends_begin_with_the_first_statement(
        rig: Rig, postgres_cluster: Cluster) -> None:
    """begin() sends nothing; the first statement opens the transaction; a transaction
    that ran nothing commits without a word."""
    runner = rig.runner
    runner.run("CREATE TABLE t (k integer PRIMARY KEY)")
    (pid,) = runner.one("SELECT pg_backend_pid()") or (0,)
    runner.begin()
    assert backend_state(postgres_cluster, pid) == "idle"
    runner.commit()  # nothing ran: nothing to send
    runner.begin()
    runner.run("INSERT INTO t VALUES (1)")
    assert backend_state(postgres_cluster, pid) == "idle in transaction"
    runner.rollback()
    assert backend_state(postgres_cluster, pid) == "idle"
    assert runner.rows("SELECT k FROM t") == []


def test_postgres_runner_held_writes_go_with_the_commit(rig: Rig) -> None:
    """Writes held at the commit's flush are written by the COMMIT's round trip, after the
    statements before them; one that fails fails the commit, and nothing is kept."""
    runner = rig.runner
    runner.run("CREATE TABLE t (k integer PRIMARY KEY, v text)")
    runner.begin()
    runner.hold()
    runner.later("INSERT INTO t VALUES (%s, %s)", 1, "100% of it; 'quoted'")
    assert runner.rows("SELECT count(*) FROM t") == [(1,)]  # held went first
    runner.later("INSERT INTO t VALUES (%s, %s)", 2, "two")
    runner.commit()
    assert runner.rows("SELECT k, v FROM t ORDER BY k") == [(1, "100% of it; 'quoted'"),
                                                             (2, "two")]
    runner.begin()
    runner.run("INSERT INTO t VALUES (3, 'three')")
    runner.hold()
    runner.later("INSERT INTO t VALUES (%s, %s)", 1, "a known key")
    with pytest.raises(StorageError):
        runner.commit()
    assert runner.rows("SELECT k FROM t ORDER BY k") == [(1,), (2,)]


def test_postgres_runner_then_failing_keeps_the_commit(rig: Rig) -> None:
    """The statement after the COMMIT runs outside the transaction: if it fails, the commit
    still went through, and commit() returns the failure instead of raising it."""
    runner = rig.runner
    runner.run("CREATE TABLE t (k integer PRIMARY KEY)")
    runner.begin()
    runner.run("INSERT INTO t VALUES (1)")
    failure = runner.commit("SELECT pg_notify(%s, %s)", "c", "x" * 9000)  # over 8000 bytes
    assert isinstance(failure, StorageError)
    assert runner.rows("SELECT k FROM t") == [(1,)]
    runner.begin()
    runner.run("INSERT INTO t VALUES (2)")
    assert runner.commit("SELECT pg_notify(%s, %s)", "c", "fits") is None
    assert runner.rows("SELECT k FROM t ORDER BY k") == [(1,), (2,)]


def test_postgres_runner_prepares_again_on_a_new_connection(
        rig: Rig, postgres_cluster: Cluster) -> None:
    """A prepared statement dies with its connection: the runner PREPAREs it again on the
    next one, before anything runs there, with generic plans on both (prepared.py)."""
    runner = rig.runner
    runner.run("CREATE TABLE t (k integer PRIMARY KEY)")
    runner.prepare(["PREPARE k_of AS SELECT k FROM t WHERE k = ANY($1::integer[])"])
    runner.run("INSERT INTO t VALUES (1), (2)")
    assert runner.rows("EXECUTE k_of(%s)", [2, 3]) == [(2,)]
    assert postgres_cluster.terminate(rig.url) == 1
    runner.begin()
    with pytest.raises(ConnectionLost):
        runner.run("SELECT 1")
    rig.now = 0.5
    runner.begin()
    assert runner.rows("EXECUTE k_of(%s)", []) == []  # '{}': typed by the PREPARE
    assert runner.rows("EXECUTE k_of(%s)", [1]) == [(1,)]
    assert runner.one("SHOW plan_cache_mode") == ("force_generic_plan",)
    runner.commit()


def test_postgres_runner_plans_again_after_replan_seconds(rig: Rig) -> None:
    """A generic plan is made from the table's size of the moment; a BEGIN REPLAN seconds
    later throws it away, and the next one is made for the table as it has grown."""
    runner = rig.runner
    runner.run("CREATE TABLE t (u bigint, s bigint, PRIMARY KEY (u, s)) "
               "WITH (autovacuum_enabled = off)")
    runner.run("INSERT INTO t VALUES (0, 0)")
    runner.prepare(["PREPARE found AS SELECT u FROM t WHERE (u, s) IN "
                    "(SELECT * FROM unnest($1::bigint[], $2::bigint[]))"])

    def planned() -> str:
        runner.begin()
        plan = runner.rows("EXPLAIN EXECUTE found(%s, %s)", [1], [1])
        runner.commit()
        return " ".join(str(row[0]) for row in plan)

    assert "Seq Scan" in planned()  # a page
    runner.run("INSERT INTO t SELECT mod(g, 100), g FROM generate_series(1, 100000) AS g")
    rig.now = REPLAN - 0.01
    assert "Seq Scan" in planned()  # kept
    rig.now = REPLAN
    assert "Index" in planned()
