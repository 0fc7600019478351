"""The entry carried by its wake-up (storage/wakeups.py `c`, Sessions._carried), in process
(rules_kit Nodes on one PostgreSQL database): the recipient's node sends it without reading
the queue when it is the session's next entry, and reads the queue as before otherwise;
what was not committed is never carried. Reads are counted where every read of a queue
goes on PostgreSQL (QueueReader.pages; page() calls it)."""

import selectors
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg2
import pytest
from server.rules_kit import T0, Line, Node

from cluster.kit import GUARD, hear
from interzap_server.hearing import Hearing
from interzap_server.storage import Carried, Heard, Page, Resync, Wake, wakeups
from interzap_server.storage.numbers import user_number
from shared import events as ev
from shared.codec import encode


@dataclass
class Chat:
    """Alice on node one, Bob on node two, both logged in and caught up, and the reads of
    a queue that node two made since."""

    one: Node
    two: Node
    alice_line: Line
    alice: str
    bob_line: Line
    bob: str
    reads: list[dict[str, int]]

    def send(self, ts: int) -> None:
        """Alice's 05 to Bob, in a batch of its own: answered 16, committed, notified."""
        send = ev.Send(self.alice, self.bob, ts, f"hi {ts}")
        assert self.one.ask(self.alice_line, send) == [ev.Accepted(self.bob, ts)]

    def heard(self, until: int = 1) -> list[type]:
        """What node two heard, handled as the loop does (then a top-up); its types."""
        heard = hear(self.two, until)
        deliver(self.two, heard)
        return [type(item) for item in heard]

    def got(self, *stamps: int) -> list[ev.Event]:
        return [ev.Deliver(self.alice, self.bob, ts, f"hi {ts}") for ts in stamps]


def count_reads(node: Node, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """The cursors of each read of a queue the node makes from now on."""
    reads: list[dict[str, int]] = []
    queue = node.store.queue
    real = queue.pages

    def pages(cursors: dict[str, int], limit: int) -> dict[str, Page]:
        reads.append(dict(cursors))
        return real(cursors, limit)

    monkeypatch.setattr(queue, "pages", pages)
    return reads


def deliver(node: Node, heard: list[Heard]) -> None:
    """As the loop does with what it drained: hear it, then top up the sessions."""
    node.service.hear(heard)
    node.service.top_up()


@pytest.fixture
def chat(pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch) -> Iterator[Chat]:
    one, two = pair
    alice_line, alice, _ = one.register()
    bob_line, bob, _ = two.register()
    hear(one)  # each node's news of the other's login
    hear(two)
    yield Chat(one, two, alice_line, alice, bob_line, bob, count_reads(two, monkeypatch))


def test_carried_entry_is_sent_without_reading_the_queue(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    chat.send(1)
    assert chat.heard(until=2) == [Carried, Wake]  # the `c` before its `w`
    assert chat.bob_line.take() == chat.got(1)
    assert chat.reads == []
    # its 12 deletes it by its place (no lookup), and the 07 goes back carried too
    runner = chat.two.store._runner
    run, ran = runner.run, []
    monkeypatch.setattr(runner, "run", lambda sql, *values: (ran.append(sql), run(sql, *values))[1])
    assert chat.two.ask(chat.bob_line, ev.Receipt(chat.alice, chat.bob, 1)) == []
    assert ran and chat.two.store._sql.drop_copy not in ran
    one_reads = count_reads(chat.one, monkeypatch)
    deliver(chat.one, hear(chat.one, until=2))
    assert chat.alice_line.take() == [ev.Delivered(chat.bob, 1)]
    assert one_reads == []
    assert chat.two.admin.queue(chat.bob) == []


def test_carried_entry_keeps_its_frame_and_key_whole(chat: Chat) -> None:
    """A frame may hold spaces, colons, dashes and any character but LF."""
    frame = encode(ev.Deliver(chat.alice, chat.bob, 7, "- c 1:2:3  two  spaces, é, 🙂 -"))
    key = (user_number(chat.bob), user_number(chat.alice), 7)
    with chat.one.store.batch():
        entry = chat.one.store.enqueue(chat.bob, frame, key)
    assert hear(chat.two, until=2)[0] == Carried(chat.bob, entry, frame, key)


def test_carried_entry_not_next_is_read_with_the_queue_in_order(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bob's node never hears of the first message (its NOTIFY lost): the second one's
    carried entry is not the one after his cursor, so the queue is read, both in order."""
    notifications = chat.one.store.wakeups
    take = notifications.take
    monkeypatch.setattr(notifications, "take", lambda voided=(): take(voided)[:0])
    chat.send(1)  # committed, and its NOTIFY lost
    monkeypatch.setattr(notifications, "take", take)
    chat.send(2)
    assert chat.heard(until=2) == [Carried, Wake]
    assert chat.bob_line.take() == chat.got(1, 2)
    assert len(chat.reads) == 1


def test_carried_entry_for_a_session_catching_up_waits_for_the_read(chat: Chat) -> None:
    chat.two.service.hear([Resync()])  # Bob's session catches up: a read is due
    chat.send(1)
    chat.two.service.hear(hear(chat.two, until=2))
    assert chat.bob_line.take() == []  # not sent past the read that is due
    chat.two.service.top_up()
    assert chat.bob_line.take() == chat.got(1)
    assert len(chat.reads) == 1


Take = Callable[..., list[str]]


@pytest.mark.parametrize("say", [
    pytest.param(lambda take, voided: [p for p in take(voided) if not p.startswith("c ")],
                 id="an old node's w only"),
    pytest.param(None, id="a payload too large"),
])
def test_wake_up_without_its_entry_reads_the_queue(
        chat: Chat, monkeypatch: pytest.MonkeyPatch,
        say: Callable[[Take, object], list[str]] | None) -> None:
    """A `w` alone, as a node of the code before says it, or as said for an entry whose
    `c` would pass PAYLOAD, is read with the queue, as before."""
    if say is None:
        monkeypatch.setattr(wakeups, "PAYLOAD", 40)  # a `c` of a 06 is longer, a `w` not
    else:
        take = chat.one.store.wakeups.take
        monkeypatch.setattr(chat.one.store.wakeups, "take",
                            lambda voided=(): say(take, voided))
    chat.send(1)
    assert chat.heard() == [Wake]
    assert chat.bob_line.take() == chat.got(1)
    assert len(chat.reads) == 1


def test_retransmission_is_not_carried(chat: Chat) -> None:
    """A 05 sent again (its key known, its entry dropped at the flush) makes a seq that
    is a gap: it is woken for, never carried, and Bob does not get the 06 twice."""
    chat.send(1)
    assert chat.heard(until=2) == [Carried, Wake]
    assert chat.bob_line.take() == chat.got(1)
    chat.send(1)
    assert chat.heard() == [Wake]
    assert chat.bob_line.take() == []


def test_entry_undone_with_its_frame_is_not_carried(chat: Chat) -> None:
    store = chat.one.store
    with store.batch():
        store.savepoint()
        store.enqueue(chat.bob, encode(ev.Delivered(chat.alice, 1)))
        assert store.rollback_to_savepoint()
    assert chat.heard() == [Wake]
    assert chat.bob_line.take() == []


def test_many_entries_for_one_user_are_not_carried(
        chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past CARRIED entries of one user in a batch, one read is cheaper than the payloads."""
    # one batch, one commit: on a loaded machine the 05s could outlast SHARED_HOLD, and
    # the node would commit in between (Service._look_ahead), two batches of fewer
    monkeypatch.setattr(chat.one.service, "_hold", GUARD)
    stamps = range(1, wakeups.CARRIED + 2)
    with chat.one.service.batch(T0):
        for ts in stamps:
            send = ev.Send(chat.alice, chat.bob, ts, f"hi {ts}")
            chat.one.service.handle(chat.alice_line, send, encode(send)[:-1])
    chat.one.service.settle()
    assert chat.heard() == [Wake]
    assert chat.bob_line.take() == chat.got(*stamps)
    assert len(chat.reads) == 1


def test_carried_payload_not_understood_is_dropped_alone(chat: Chat) -> None:
    """A `c` payload that does not parse is logged and ignored; the `w` after it works."""
    bob = user_number(chat.bob)
    connection = psycopg2.connect(str(chat.one.db))
    try:
        connection.autocommit = True
        connection.cursor().execute(
            "SELECT pg_notify('interzap', said) FROM unnest(%s::text[]) AS said",
            ([f"c 0ld0rigin {bob} x - 06 broken", f"c 0ld0rigin {bob} 1 1:2 06 broken",
              f"w 0ld0rigin {bob}:1"],))
    finally:
        connection.close()
    assert chat.heard() == [Wake]
    assert chat.bob_line.take() == []  # the queue holds nothing: read, and nothing sent


def test_carried_entry_leaves_in_the_middle_of_a_batch(chat: Chat) -> None:
    """Heard while node two's own batch waits for the database (before each of its round
    trips: the loop's Hearing.early), a carried entry that is Bob's next goes at once,
    before that batch commits; the `w` after it waits for the batch's end, and finds
    nothing more to read."""
    selector = selectors.DefaultSelector()
    service = chat.two.service
    hearing = Hearing(selector, service.listener, service.hear, service.hear_early)
    service.while_waiting(hearing.early)
    chat.send(1)
    selector.select(GUARD)  # the NOTIFY is there to be read
    with service.batch(T0):  # Bob's own 05, which asks the database
        service.prepare([(chat.bob_line, ev.Send(chat.bob, chat.alice, 5, "yo"))])
        service.handle(chat.bob_line, ev.Send(chat.bob, chat.alice, 5, "yo"))
        assert chat.bob_line.take() == chat.got(1)  # his 16 waits for the commit
        assert [type(item) for item in hearing.kept] == [Wake]
    assert chat.bob_line.take() == [ev.Accepted(chat.alice, 5)]
    hearing.drain()
    service.top_up()
    assert hearing.kept == []
    assert chat.bob_line.take() == []
    assert chat.reads == []
    hearing.close()
    selector.close()


def test_heard_in_a_batch_keeps_what_cannot_go_and_what_comes_after(chat: Chat) -> None:
    """In the middle of a batch only a carried entry that is its session's next goes; one
    that is not, anything after it for the same user, and everything after a Resync
    wait for hear() after the batch, in the order heard."""
    bob = chat.bob
    frame = encode(ev.Deliver(chat.alice, bob, 1, "x"))
    session = chat.two.sessions.get(chat.bob_line)
    assert session is not None
    cursor = session.cursor
    far = Carried(bob, cursor + 2, frame, None)
    then = Carried(bob, cursor + 1, frame, None)
    assert chat.two.service.hear_early([far, then]) == [far, then]
    assert chat.two.service.hear_early([Resync(), then]) == [Resync(), then]
    assert chat.bob_line.take() == []
    assert chat.two.service.hear_early([then, far]) == []  # each its session's next in turn
    assert chat.bob_line.take() == [ev.Deliver(chat.alice, bob, 1, "x")] * 2
