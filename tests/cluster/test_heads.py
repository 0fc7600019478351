"""The queue heads a node locks for an iteration's 1:1 frames (storage/heads.py): locked in
user order, so two nodes writing to the same users in opposite orders never wait for each
other in a cycle; seqs handed out by the node and written back at the flush, valid after
a frame undone alone; a 05 that costs no statement of its own, a 12 neither."""

from server.rules_kit import T0, Node
from wire import ClientFactory, timestamp

from cluster.kit import LIVE, Nodes
from interzap_server.storage import Store
from interzap_server.storage.failures import LockTimeout
from interzap_server.storage.numbers import SEQ_SPAN
from shared import events as ev
from shared.codec import encode

ROUNDS = 30


def test_heads_opposite_orders_on_two_nodes_refuse_nothing(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """Two senders on two nodes each write to the same two users at once, in opposite
    orders, 30 times: every 05 is answered 16 (a lock wait in a cycle would end in 13/99),
    and both recipients get everything."""
    one, two = nodes(2)
    first, second = client_factory.registered(one), client_factory.registered(one)
    forth, back = client_factory.registered(one), client_factory.registered(two)
    start = timestamp()
    for ts in range(start, start + ROUNDS):
        forth.send(ev.Send(forth.user, first.user, ts, "a"),
                   ev.Send(forth.user, second.user, ts, "b"))
        back.send(ev.Send(back.user, second.user, ts, "c"),
                  ev.Send(back.user, first.user, ts, "d"))
        forth.expect_next(ev.Accepted(first.user, ts), LIVE)
        forth.expect_next(ev.Accepted(second.user, ts), LIVE)
        back.expect_next(ev.Accepted(second.user, ts), LIVE)
        back.expect_next(ev.Accepted(first.user, ts), LIVE)
    for recipient in (first, second):
        got = {(event.src, event.ts)  # type: ignore[attr-defined]
               for event in (recipient.expect_next(ev.Deliver, LIVE)
                             for _ in range(2 * ROUNDS))}
        assert got == {(sender.user, ts) for sender in (forth, back)
                       for ts in range(start, start + ROUNDS)}


def entries(store: Store, user: str) -> list[int]:
    """The seqs of `user`'s queue, read outside any transaction."""
    return [queued.entry % SEQ_SPAN for queued in store.queue.read(user, 0, 100)]


def test_heads_a_frame_undone_alone_leaves_the_seqs_valid(pair: tuple[Node, Node]) -> None:
    """Seqs a node hands out from a locked head stay valid when a frame is rolled back to
    its savepoint after its rows were written: the seq it took is a gap, the next one is
    above it, the head is written back, and the other node continues after it."""
    one, two = pair
    _, bob, _ = one.register()
    store = one.store
    store.begin()
    store.node.prefetch({bob: [bob]}, [], 100)
    assert store.enqueue(bob, b"x\n") % SEQ_SPAN == 1
    store.commit()
    store.begin()
    store.node.prefetch({bob: [bob]}, [], 100)
    store.savepoint()
    assert store.enqueue(bob, b"y\n") % SEQ_SPAN == 2
    store.marks.newest_keys(bob)  # a read that writes what waits, after the savepoint
    assert store.rollback_to_savepoint()  # the entry and the head's write undone
    assert store.enqueue(bob, b"z\n") % SEQ_SPAN == 3  # 2 is a gap, never handed out again
    store.commit()
    assert entries(store, bob) == [1, 3]
    with two.service.batch(T0):
        assert two.store.enqueue(bob, b"w\n") % SEQ_SPAN == 4  # the head was written back
    assert entries(store, bob) == [1, 3, 4]


def test_heads_prefetched_05_and_12_ask_nothing_more(pair: tuple[Node, Node]) -> None:
    """Once prefetched, a 1:1 05 (exists, blocks, room, seq) and the 07 of a 12 sent from
    here run no statement of their own: what the batch writes waits for its flush."""
    one, _ = pair
    alice_line, alice, _ = one.register()
    bob_line, bob, _ = one.register()
    one.frame(T0, alice_line, ev.Send(alice, bob, 1, "hi"))  # bob met, his 06 sent
    one.service.settle()
    assert bob_line.take() == [ev.Deliver(alice, bob, 1, "hi")]
    alice_line.take()
    runs = []
    runner = one.store._runner  # counting its round trips is the point
    real = runner.run
    runner.run = lambda sql, *params: runs.append(sql) or real(sql, *params)  # type: ignore
    with one.service.batch(T0):
        frames = [(alice_line, ev.Send(alice, bob, 2, "again")),
                  (bob_line, ev.Receipt(alice, bob, 1))]
        one.service.prepare(frames)
        for line, event in frames:
            one.service.handle(line, event)
        assert len(runs) == 1  # the prefetch, before the first frame
    runner.run = real  # type: ignore[method-assign]
    one.service.settle()
    assert alice_line.take() == [ev.Accepted(bob, 2), ev.Delivered(bob, 1)]


def test_heads_a_12_that_failed_is_handled_again(pair: tuple[Node, Node]) -> None:
    """A 12 whose statement failed (a lock wait cancelled) is nobody's to send again: the
    node handles it again in its next batch, and the author gets its 07."""
    one, _ = pair
    alice_line, alice, _ = one.register()
    bob_line, bob, _ = one.register()
    assert one.ask(alice_line, ev.Send(alice, bob, 1, "hi")) == [ev.Accepted(bob, 1)]
    assert bob_line.take() == [ev.Deliver(alice, bob, 1, "hi")]
    real = one.store.acknowledge

    def cancelled(*args: str) -> int | None:
        one.store.acknowledge = real  # type: ignore[method-assign]
        raise LockTimeout("canceling statement due to lock timeout")

    one.store.acknowledge = cancelled  # type: ignore[method-assign]
    assert one.ask(bob_line, ev.Receipt(alice, bob, 1)) == []
    assert alice_line.take() == []  # failed: no 07 yet
    one.frame(T0)  # the next batch, with no frame of its own
    one.service.settle()
    assert alice_line.take() == [ev.Delivered(bob, 1)]


class Counting:
    """A cursor that keeps what it sends: each execute() is a round trip."""

    def __init__(self, cursor: object) -> None:
        self.cursor = cursor
        self.sent: list[str] = []

    def execute(self, sql: str, params: object) -> object:
        self.sent.append(sql)
        return self.cursor.execute(sql, params)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.cursor, name)


def test_heads_a_05s_key_is_looked_for_with_its_head(pair: tuple[Node, Node]) -> None:
    """The prefetch also asks whether each 05's key is known. A new key is written with
    the COMMIT: the batch of a 1:1 05 is two round trips (the prefetch, then the writes
    with COMMIT and the NOTIFY). A retransmission of it is found by the prefetch of a
    later batch: 16 again, and nothing owed again."""
    one, _ = pair
    alice_line, alice, _ = one.register()
    bob_line, bob, _ = one.register()
    assert one.ask(alice_line, ev.Send(alice, bob, 1, "hi")) == [ev.Accepted(bob, 1)]
    assert bob_line.take() == [ev.Deliver(alice, bob, 1, "hi")]
    runner = one.store._runner  # counting its round trips is the point
    cursor = Counting(runner._cursor)
    runner._cursor = cursor  # type: ignore[assignment]
    for _ in range(2):  # the message, then its retransmission in a batch of its own
        frames = [(alice_line, ev.Send(alice, bob, 2, "again"))]
        with one.service.batch(T0):
            one.service.prepare(frames)
            for line, event in frames:
                one.service.handle(line, event, encode(event)[:-1])
        assert len(cursor.sent) == 2, cursor.sent
        assert "RETURNING" not in cursor.sent[-1]
        cursor.sent.clear()
        assert alice_line.take() == [ev.Accepted(bob, 2)]
    assert bob_line.take() == [ev.Deliver(alice, bob, 2, "again")]  # once
    runner._cursor = cursor.cursor  # type: ignore[assignment]


def test_heads_a_nodes_12_is_committed_with_its_iteration(pair: tuple[Node, Node]) -> None:
    """A 12 nobody answers may wait COMMIT_DELAY for company on a lone server; on a node it
    holds the head of the queue its 07 goes to, which other nodes' 05s wait for, so its
    transaction ends with its iteration, and the 07 leaves at once."""
    one, _ = pair
    alice_line, alice, _ = one.register()
    bob_line, bob, _ = one.register()
    assert one.ask(alice_line, ev.Send(alice, bob, 1, "hi")) == [ev.Accepted(bob, 1)]
    assert bob_line.take() == [ev.Deliver(alice, bob, 1, "hi")]
    frames = [(bob_line, ev.Receipt(alice, bob, 1))]
    with one.service.batch(T0):
        one.service.prepare(frames)
        for line, event in frames:
            one.service.handle(line, event)
    assert one.service.commit_due() is None  # no transaction left open
    assert alice_line.take() == [ev.Delivered(bob, 1)]
