"""The store's hot path, in process: what each call answers and how many statements it runs.

No server here: a Store on a fresh SQLite file per test. Tests marked `both` run
twice, with the caches on (one process, as the server runs today) and off (a
database shared by several processes): the answers must not differ. Statements
are counted with sqlite3's trace callback, because the hot path runs prepared
SQL on the store's own cursor, which peewee's assert_query_count does not see.
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from postgres import Cluster

from interzap_server.storage import StorageError, Store, caches, expiry, open_store, writes

TS = 1_700_000_000
FRAME = b"06Client-000001Client-0000021700000000hi\n"
DELIVERED = b"07Client-0000021700000000\n"


@pytest.fixture
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A store with its caches on, or off where a test is marked `both`."""
    store = open_store(str(tmp_path / "store.db"), shared=getattr(request, "param", False))
    try:
        yield store
    finally:
        store.close()


both = pytest.mark.parametrize("store", [pytest.param(False, id="caches"),
                                         pytest.param(True, id="no-caches")], indirect=True)


def users(store: Store, count: int) -> list[str]:
    with store.batch():
        return [store.register("0" * 64, TS) for _ in range(count)]


def send_to_group(store: Store, author: str, group: str, members: Sequence[str],
                  ts: int = TS) -> None:
    """A new group message from `author`, a copy queued for each of `members`."""
    message = store.add_message(author, group, ts, TS)
    for member in members:
        store.enqueue(member, FRAME, message)


TRANSACTION = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
VALUES = re.compile(r"'[^']*'|-?\b\d+\b")


@contextmanager
def statements(store: Store, expanded: bool = False) -> Iterator[list[str]]:
    """The first word of each SQL statement run inside the block, transactions and
    savepoints aside; a statement stepped over many rows (executemany) counts once.
    `expanded`: each statement run, with the values bound."""
    seen: list[str] = []
    last = [""]

    def trace(sql: str) -> None:
        shape = VALUES.sub("?", sql)  # the trace shows the values bound
        if shape.split()[0] not in TRANSACTION and (expanded or shape != last[0]):
            seen.append(sql if expanded else shape.split()[0])
        last[0] = shape

    connection = store._runner.db.connection()
    connection.set_trace_callback(trace)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


@both
def test_store_add_message_known_key_returns_none(store: Store) -> None:
    """A key seen before in the same transaction inserts nothing: add_message says None."""
    alice, bob = users(store, 2)
    with store.batch():
        first = store.add_message(alice, bob, TS, TS)
        again = store.add_message(alice, bob, TS, TS)
    assert first is not None
    assert again is None
    assert store.message_known(alice, bob, TS)


@both
def test_store_known_key_of_an_earlier_transaction_drops_its_entries(store: Store) -> None:
    """A key stored before is found when the transaction writes it: its copies are not
    written, and not to be sent."""
    alice, bob = users(store, 2)
    with store.batch():
        kept = store.enqueue(bob, FRAME, store.add_message(alice, bob, TS, TS))
    with store.batch():
        again = store.add_message(alice, bob, TS, TS)
        assert again is not None  # not known yet: the key is written at the end
        dropped = store.enqueue(bob, FRAME, again)
        fresh = store.enqueue(bob, FRAME, store.add_message(alice, bob, TS + 1, TS))
    assert not store.sent(dropped)
    assert store.sent(kept) and store.sent(fresh)
    assert [queued.entry for queued in store.queue.read(bob, 0, 10)] == [kept, fresh]


@both
def test_store_receipt_after_a_dropped_retransmission_drops_the_first_copy(
    store: Store,
) -> None:
    """The 12 of a message whose retransmission was dropped at the flush deletes the copy
    made first."""
    alice, bob = users(store, 2)
    with store.batch():
        store.enqueue(bob, FRAME, store.add_message(alice, bob, TS, TS))
    with store.batch():
        store.enqueue(bob, FRAME, store.add_message(alice, bob, TS, TS))
    with store.batch():
        assert store.acknowledge(bob, alice, bob, TS) == 0
    assert store.queue.read(bob, 0, 10) == []


@both
def test_store_prune_forgets_only_old_settled_keys(store: Store) -> None:
    """prune() forgets keys older than its bound whose copies were all acknowledged; a key
    with a copy still queued (1:1 or group) or a newer key stays known."""
    alice, bob, carol = users(store, 3)
    with store.batch():
        group = store.create_group(alice, TS, (alice, bob, carol), TS)
        for ts in (TS, TS + 1):
            store.enqueue(bob, FRAME, store.add_message(alice, bob, ts, TS))
            send_to_group(store, alice, group, (bob, carol), ts)
        store.enqueue(bob, FRAME, store.add_message(alice, bob, TS + 2, TS + 100))
    with store.batch():
        for ts in (TS, TS + 2):
            store.acknowledge(bob, alice, bob, ts)
        store.acknowledge(bob, alice, group, TS)
        store.acknowledge(carol, alice, group, TS)
        store.acknowledge(bob, alice, group, TS + 1)
    with store.batch():
        assert sum(store.prune(TS + 50) for _ in range(expiry.SLICES)) == 2
    assert not store.message_known(alice, bob, TS)
    assert not store.message_known(alice, group, TS)
    assert store.message_known(alice, bob, TS + 1)  # queued for bob
    assert store.message_known(alice, group, TS + 1)  # queued for carol
    assert store.message_known(alice, bob, TS + 2)  # not old enough


def test_store_prune_walks_a_slice_of_recipients_per_call(store: Store) -> None:
    """Each prune() looks at the next range of recipients: 1:1 keys and group receipts are
    all forgotten after SLICES calls, not before, and the pass then begins again."""
    alice, *others = users(store, expiry.SLICES)
    with store.batch():
        group = store.create_group(alice, TS, (alice, *others), TS)
        send_to_group(store, alice, group, others)
        for member in others:
            store.acknowledge(member, alice, group, TS, now=TS)
        for ts, bob in enumerate(others, TS):
            store.add_message(alice, bob, ts, TS)
    with store.batch():
        forgotten = [store.prune(TS + 50) for _ in range(expiry.SLICES)]
    assert max(forgotten) < len(others) and sum(forgotten) == len(others) + 1
    assert store.receipts.of(group, alice, TS) == {}
    with store.batch():
        store.add_message(alice, others[0], TS - 1, TS)
        assert store.prune(TS + 50) == 1  # a new pass, from the smallest recipient


@both
def test_store_receipt_in_the_transaction_of_its_message_acknowledges_once(
    store: Store,
) -> None:
    """A 12 handled before its copy was written (a message to oneself, in one iteration)
    drops it; the same 12 later acknowledges nothing."""
    (alice,) = users(store, 1)
    with store.batch():
        store.enqueue(alice, FRAME, store.add_message(alice, alice, TS, TS))
        assert store.acknowledge(alice, alice, alice, TS) == 0
    with store.batch():
        assert store.acknowledge(alice, alice, alice, TS) is None
    assert store.queue.read(alice, 0, 10) == []


def test_store_enqueue_ids_go_on_after_entries_read_and_forgotten(
    store: Store, tmp_path: Path
) -> None:
    """A fresh store (a restart) that reads a queue and sees it emptied gives the next
    entry a larger id than those read: the session's cursor is past them."""
    (bob,) = users(store, 1)
    with store.batch():
        store.enqueue(bob, b"07Client-0000021700000000\n")
    store.close()
    fresh = open_store(str(tmp_path / "store.db"))
    try:
        [old] = fresh.queue.read(bob, 0, 10)
        with fresh.batch():
            fresh.forget([old.entry])
        with fresh.batch():
            new = fresh.enqueue(bob, FRAME)
    finally:
        fresh.close()
    assert new > old.entry


@both
def test_store_enqueue_ids_go_on_after_a_rollback(store: Store) -> None:
    """Entries made after a rolled-back transaction still get larger ids than those before
    it, even once those were forgotten (a session may have been sent them)."""
    (bob,) = users(store, 1)
    with store.batch():
        old = store.enqueue(bob, FRAME)
    with pytest.raises(RuntimeError), store.batch():
        store.enqueue(bob, FRAME)
        raise RuntimeError("roll back")
    with store.batch():
        store.forget([old])
    with store.batch():
        new = store.enqueue(bob, FRAME)
    assert new > old


@both
def test_store_enqueue_ids_never_go_back(store: Store) -> None:
    """A queue entry made after the newest was forgotten still gets a larger id."""
    (bob,) = users(store, 1)
    with store.batch():
        old = store.enqueue(bob, FRAME)
    with store.batch():
        store.forget([old])
    with store.batch():
        new = store.enqueue(bob, FRAME)
    assert new > old


@both
def test_store_acknowledge_drops_only_that_copy(store: Store) -> None:
    """A 12 drops the recipient's copy once; a second 12 or another user's acknowledges nothing."""
    alice, bob, carol = users(store, 3)
    with store.batch():
        message = store.add_message(alice, bob, TS, TS)
        store.enqueue(bob, FRAME, message)
    with store.batch():
        assert store.acknowledge(carol, alice, bob, TS) is None
        assert store.acknowledge(bob, alice, bob, TS + 1) is None
        assert store.acknowledge(bob, alice, bob, TS) == 0
        assert store.acknowledge(bob, alice, bob, TS) is None
    assert store.queue.read(bob, 0, 10) == []


@both
def test_store_acknowledge_group_counts_copies_left(store: Store) -> None:
    """For a group message, acknowledge says how many members still owe a 12."""
    alice, bob, carol = users(store, 3)
    with store.batch():
        group = store.create_group(alice, TS, (alice, bob, carol), TS)
        send_to_group(store, alice, group, (bob, carol))
    with store.batch():
        assert store.acknowledge(bob, alice, group, TS) == 1
        assert store.acknowledge(carol, alice, group, TS) == 0


@both
def test_store_forget_drops_every_entry(store: Store) -> None:
    """forget() drops all the entries it is given, in one call."""
    (alice,) = users(store, 1)
    with store.batch():
        entries = [store.enqueue(alice, b"07Client-0000021700000000\n") for _ in range(5)]
        kept = store.enqueue(alice, b"07Client-0000021700000001\n")
    with store.batch():
        store.forget(entries)
    assert [queued.entry for queued in store.queue.read(alice, 0, 10)] == [kept]


def test_store_one_to_one_message_statements(store: Store) -> None:
    """A transaction of 64 new 1:1 messages is 2 statements (keys, copies); their 12s and
    15s are 1 (the deletions, stepped)."""
    alice, bob = users(store, 2)
    with store.batch():  # each queue's last seq, read once per process
        store.enqueue(alice, b"07Client-0000021700000000\n")
        store.enqueue(bob, b"07Client-0000011700000000\n")
    assert store.user_exists(bob) and store.full_queue([bob], 100) is None  # cached from here on
    stamps = range(TS, TS + writes.CHUNK)
    with statements(store) as sent, store.batch():
        for ts in stamps:
            store.enqueue(bob, FRAME, store.add_message(alice, bob, ts, TS))
    confirmed = [queued.entry for queued in store.queue.read(alice, 0, 10)]
    with statements(store) as received, store.batch():
        assert [store.acknowledge(bob, alice, bob, ts) for ts in stamps] == [0] * len(stamps)
        store.forget(confirmed)
    assert sent == ["INSERT", "INSERT"]
    assert received == ["DELETE"]
    assert len(store.queue.read(bob, 0, 100)) == 1  # the 07 of the warm-up


def test_store_inserts_rows_by_powers_of_two(store: Store) -> None:
    """100 rows are INSERTs of 64, 32 and 4 rows, all written; the rows inserted are
    counted, those already there (ON CONFLICT DO NOTHING) not."""
    keys = [(1, 2, ts, TS) for ts in range(TS, TS + 100)]
    with store.batch():
        writes.insert_rows(store._runner, store._sql.add_key, keys[:3])
        with statements(store, expanded=True) as run:
            assert writes.insert_rows(store._runner, store._sql.add_key, keys) == 97
    assert [sql.count("), (") + 1 for sql in run] == [64, 32, 4]
    with store.batch():
        assert all(store.message_known("Client-000002", "Client-000001", ts)
                   for _, _, ts, _ in keys)


@both
def test_store_message_path_binds_no_null(store: Store) -> None:
    """The rows of a message's path (keys, 06s, 07s, group receipts) are written without
    a NULL bound: sqlite3 binds a None about ten times slower than a number."""
    author, group, (bob, carol) = group_message(store, 2)
    with statements(store, expanded=True) as run, store.batch():
        store.enqueue(bob, FRAME, store.add_message(author, bob, TS + 1, TS))
        store.enqueue(author, DELIVERED)
        for member in (bob, carol):
            store.acknowledge(member, author, group, TS, now=TS)
    assert run and not [sql for sql in run if "NULL" in sql]


@both
def test_store_receipt_read_in_its_transaction_keeps_both_times(store: Store) -> None:
    """A group 12 and the 08 past it in one transaction: the receipt is written with its
    read time, and the other member's without one."""
    author, group, (bob, carol) = group_message(store, 2)
    with store.batch():
        for member in (bob, carol):
            store.acknowledge(member, author, group, TS, now=TS + 1)
        store.receipts.read(group, author, bob, TS - 1, TS, TS + 2)
        assert store.receipts.of(group, author, TS) == {bob: (TS + 1, TS + 2),
                                                         carol: (TS + 1, 0)}
    assert store.receipts.of(group, author, TS) == {bob: (TS + 1, TS + 2), carol: (TS + 1, 0)}


def group_message(store: Store, count: int) -> tuple[str, str, list[str]]:
    """A group of an author and `count` other members, and a message with a copy for each."""
    author, *others = users(store, count + 1)
    with store.batch():
        group = store.create_group(author, TS, (author, *others), TS)
        send_to_group(store, author, group, others)
    return author, group, others


def test_store_group_receipts_are_counted_in_memory(store: Store) -> None:
    """Group 12s are one statement, at the end: the copies left are counted in memory,
    the copies are deleted by their place in the queue; a second 12 finds nothing."""
    author, group, (bob, carol, dave) = group_message(store, 3)
    with statements(store) as run, store.batch():
        left = [store.acknowledge(member, author, group, TS) for member in (bob, carol, dave)]
    with store.batch():
        again = store.acknowledge(bob, author, group, TS)
    assert left == [2, 1, 0]
    assert again is None
    assert run == ["DELETE"]


def test_store_group_count_is_forgotten_when_a_batch_rolls_back(store: Store) -> None:
    """A rolled-back 12 is not counted: the next 12 asks the database, then counts again."""
    author, group, (bob, carol, dave) = group_message(store, 3)
    with pytest.raises(RuntimeError), store.batch():
        assert store.acknowledge(bob, author, group, TS) == 2
        raise RuntimeError("roll back")
    with store.batch():
        with statements(store) as first:
            assert store.acknowledge(bob, author, group, TS) == 2
        with statements(store) as rest:
            assert store.acknowledge(carol, author, group, TS) == 1
            assert store.acknowledge(dave, author, group, TS) == 0
    assert first == ["DELETE", "SELECT"]
    assert rest == ["DELETE"]  # one statement, run for each 12 (the places were forgotten)


@both
def test_store_group_count_of_a_rolled_back_message_is_not_kept(store: Store) -> None:
    """A message whose batch rolled back is counted afresh when it is sent again."""
    author, bob, carol = users(store, 3)
    with store.batch():
        group = store.create_group(author, TS, (author, bob, carol), TS)
    with pytest.raises(RuntimeError), store.batch():
        message = store.add_message(author, group, TS, TS)
        store.enqueue(bob, FRAME, message)
        raise RuntimeError("roll back")
    with store.batch():
        send_to_group(store, author, group, (bob, carol))
    with store.batch():
        assert store.acknowledge(bob, author, group, TS) == 1
        assert store.acknowledge(carol, author, group, TS) == 0


def test_store_group_count_after_a_restart_comes_from_the_database(
    store: Store, tmp_path: Path
) -> None:
    """A fresh Store on the same file counts the copies left once, then in memory."""
    author, group, (bob, carol, dave) = group_message(store, 3)
    with store.batch():
        assert store.acknowledge(bob, author, group, TS) == 2
    store.close()
    fresh = open_store(str(tmp_path / "store.db"))
    try:
        with fresh.batch():
            with statements(fresh) as first:
                assert fresh.acknowledge(carol, author, group, TS) == 1
            with statements(fresh) as last:
                assert fresh.acknowledge(dave, author, group, TS) == 0
                assert fresh.acknowledge(dave, author, group, TS) is None
    finally:
        fresh.close()
    assert first == ["DELETE", "SELECT"]
    assert last == ["DELETE"]  # one statement, run for each 12 (the places are not known)


def test_store_group_counts_past_the_limit_are_taken_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past COUNTED_MESSAGES the counts are dropped; the database then counts correctly."""
    monkeypatch.setattr(caches, "COUNTED_MESSAGES", 1)
    author, bob, carol = users(store, 3)
    with store.batch():
        group = store.create_group(author, TS, (author, bob, carol), TS)
        for ts in (TS, TS + 1):  # the second message's count drops the first's
            send_to_group(store, author, group, (bob, carol), ts)
    with store.batch(), statements(store) as run:
        assert store.acknowledge(bob, author, group, TS + 1) == 1
        assert store.acknowledge(carol, author, group, TS + 1) == 0
        assert store.acknowledge(bob, author, group, TS) == 1
        assert store.acknowledge(carol, author, group, TS) == 0
    assert run == ["DELETE", "SELECT"]  # the deletions wait, except before a count


@both
def test_store_commit_failure_leaves_no_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed COMMIT raises StorageError, keeps no write, and leaves no transaction open."""
    (bob,) = users(store, 1)
    db = store._runner.db
    monkeypatch.setattr(db, "commit", lambda: db.execute_sql("SELECT no_such_column"))
    with pytest.raises(StorageError, match="no_such_column"), store.batch():
        store.enqueue(bob, FRAME)
    monkeypatch.undo()
    assert not db.connection().in_transaction
    assert store.queue.read(bob, 0, 10) == []
    with store.batch():
        store.enqueue(bob, FRAME)
    assert len(store.queue.read(bob, 0, 10)) == 1


def test_store_without_caches_asks_the_database_every_time(tmp_path: Path) -> None:
    """With the caches off, users, members and queue lengths are read anew on every call."""
    shared = open_store(str(tmp_path / "shared.db"), shared=True)
    try:
        alice, bob = users(shared, 2)
        with shared.batch():
            group = shared.create_group(alice, TS, (alice, bob), TS)
        with statements(shared) as run:
            for _ in range(2):
                shared.user_exists(bob)
                shared.group_members(group)
                shared.full_queue([bob], 10)
    finally:
        shared.close()
    assert run == ["SELECT"] * 6


def test_store_shared_sees_another_process_fill_a_queue(tmp_path: Path) -> None:
    """Without caches, a queue that another process filled is full at once."""
    # with them on, the length this process counted before would still say there is room
    one, two = (open_store(str(tmp_path / "store.db"), shared=True) for _ in range(2))
    try:
        (bob,) = users(one, 1)
        assert one.full_queue([bob], 2) is None
        with two.batch():
            two.enqueue(bob, FRAME)
            two.enqueue(bob, FRAME)
        assert one.full_queue([bob], 2) == bob
    finally:
        one.close()
        two.close()


def test_store_wakeups_on_sqlite_tell_nobody(store: Store) -> None:
    """On SQLite there is no other process to wake: nothing is sent, nothing to listen to."""
    with store.batch(), statements(store) as run:
        store.wakeups.notify(1, 1, "07 Client-000001 1\n", None)
        store.wakeups.tell("Client-000001", b"26x\n")
    assert run == []
    assert store.wakeups.fileno() is None
    assert store.wakeups.drain() == []


# -- savepoints with waiting writes (PostgreSQL: SQLite has no per-frame savepoint) --------

@pytest.fixture
def pg_store(postgres_cluster: Cluster) -> Iterator[Store]:
    url = postgres_cluster.create_database()
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
        postgres_cluster.drop_database(url)


def test_store_savepoint_rollback_drops_the_frames_waiting_writes(pg_store: Store) -> None:
    """A frame undone alone leaves no waiting row behind, 06 or 07; its seqs are gaps,
    never reused."""
    alice, bob = users(pg_store, 2)
    with pg_store.batch():
        pg_store.savepoint()
        kept = pg_store.enqueue(bob, FRAME, pg_store.add_message(alice, bob, TS, TS))
        pg_store.savepoint()
        undone = pg_store.enqueue(bob, FRAME, pg_store.add_message(alice, bob, TS + 1, TS))
        pg_store.enqueue(bob, DELIVERED)
        assert pg_store.rollback_to_savepoint()
        pg_store.savepoint()
        later = pg_store.enqueue(bob, FRAME, pg_store.add_message(alice, bob, TS + 1, TS))
        delivered = pg_store.enqueue(bob, DELIVERED)
    assert kept < undone < later < delivered
    assert [queued.entry for queued in pg_store.queue.read(bob, 0, 10)] == [kept, later,
                                                                            delivered]


def test_store_savepoint_after_a_flush_of_earlier_frames_undoes_the_batch(
        pg_store: Store) -> None:
    """A flush inside a frame writes earlier frames' rows after its savepoint: that frame
    cannot be undone alone."""
    alice, bob = users(pg_store, 2)
    pg_store.begin()
    pg_store.savepoint()
    pg_store.enqueue(bob, FRAME, pg_store.add_message(alice, bob, TS, TS))
    pg_store.savepoint()
    pg_store.queue.read(bob, 0, 10)  # flushes the first frame's entry
    assert not pg_store.rollback_to_savepoint()
    pg_store.rollback()


def test_store_postgres_plans_each_hot_statement_once(pg_store: Store) -> None:
    """The message path's statements are prepared once per connection and planned once:
    generic plans only, whatever the number of rows (prepared.py)."""
    alice, bob, carol = users(pg_store, 3)
    for first, count in enumerate((1, 3, 1, 2, 5, 1, 4)):
        sent = range(TS + 10 * first, TS + 10 * first + count)
        with pg_store.batch():
            for ts in sent:
                pg_store.enqueue(bob, FRAME, pg_store.add_message(alice, bob, ts, TS))
                pg_store.enqueue(carol, FRAME, pg_store.add_message(alice, carol, ts, TS))
        with pg_store.batch():
            for ts in sent:
                pg_store.acknowledge(bob, alice, bob, ts)
                pg_store.acknowledge(carol, alice, carol, ts)
    plans = pg_store._runner.rows("SELECT name, generic_plans, custom_plans "
                                  "FROM pg_prepared_statements WHERE generic_plans > 0 "
                                  "OR custom_plans > 0 ORDER BY name")
    assert [name for name, _, _ in plans] == ["add_keys", "dequeue", "enqueue"]
    assert all(generic == 7 and custom == 0 for _, generic, custom in plans), plans


def test_store_postgres_plans_the_heads_once(postgres_cluster: Cluster) -> None:
    """A node's statements of the queue heads (heads.py) are planned once too."""
    url = postgres_cluster.create_database()
    store = open_store(url, shared=True)
    try:
        alice, bob, carol = users(store, 3)
        for ts in range(TS, TS + 7):
            with store.batch():
                store.node.prefetch({bob: {alice}, carol: {alice}}, {alice}, 10)
                store.enqueue(bob, FRAME, store.add_message(alice, bob, ts, TS))
                store.enqueue(carol, FRAME, store.add_message(alice, carol, ts, TS))
        rows = store._runner.rows("SELECT name, generic_plans, custom_plans "
                                  "FROM pg_prepared_statements")
        plans = {name: (generic, custom) for name, generic, custom in rows}
        for name in ("lock_heads", "fetch_heads", "write_heads", "notify"):
            assert plans[name] == (7, 0), (name, plans)
        assert plans["make_heads"] == (1, 0), plans  # made once: the node knows them since
    finally:
        store.close()
        postgres_cluster.drop_database(url)


def test_store_postgres_frames_come_back_exactly(pg_store: Store) -> None:
    """A frame goes to PostgreSQL in a text[]: quotes, backslashes, braces, commas, the word
    NULL and characters beyond ASCII come back as they were."""
    alice, bob = users(pg_store, 2)
    frames = [b"06x'\\\"{a,b}\n", "06 NULL \u00e9\u4e2d\U0001f600 ,}{\n".encode(), b"06\\N\n"]
    with pg_store.batch():
        for ts, frame in enumerate(frames, TS):
            pg_store.enqueue(bob, frame, pg_store.add_message(alice, bob, ts, TS))
    assert [queued.frame for queued in pg_store.queue.read(bob, 0, 10)] == frames
