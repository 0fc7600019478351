"""The notifications between nodes, in process (rules_kit Nodes on one PostgreSQL
database): an ephemeral frame reaches the node that holds its user (Sessions.tell, the
path typing indicators take), a wake-up of thousands of users in one batch is split into
payloads PostgreSQL takes and arrives whole, and nothing of a rolled-back batch is heard."""

import pytest
from server.rules_kit import T0, Node

from cluster.kit import hear
from interzap_server.storage import Told, Wake
from shared import events as ev
from shared.codec import encode


def test_notifications_tell_reaches_the_node_holding_the_user(pair: tuple[Node, Node]) -> None:
    one, two = pair
    line, user, _ = two.register()
    frame = encode(ev.Error(99, "ephemeral"))
    with one.service.batch(T0):
        one.sessions.tell(user, frame)  # not online on node one: told through the database
    heard = hear(two)
    assert heard == [Told(user, frame)]
    two.service.hear(heard)
    assert line.take() == [ev.Error(99, "ephemeral")]


def test_notifications_many_wake_ups_in_one_batch_arrive_whole(pair: tuple[Node, Node]) -> None:
    one, two = pair
    users = range(1, 3001)  # about 40 KB of payload: several notifications
    with one.store.batch():
        for user in users:
            one.store.wakeups.notify(user, 7, "07 Client-000001 1\n", None)
    heard = [item for item in hear(two, until=2 * len(users)) if isinstance(item, Wake)]
    assert {item.user for item in heard} == {
        f"Client-{user:06d}" for user in users}
    marker = encode(ev.Pong())
    with two.service.batch(T0):
        two.sessions.tell("Client-999999", marker)  # committed after the wake-ups
    assert hear(one) == [Told("Client-999999", marker)]  # a node does not hear itself


def test_notifications_of_a_rolled_back_batch_are_not_heard(pair: tuple[Node, Node]) -> None:
    one, two = pair
    _, user, _ = two.register()
    with pytest.raises(RuntimeError), one.store.batch():
        one.store.wakeups.notify(1, 1, "07 Client-000001 1\n", None)
        one.sessions.tell(user, encode(ev.Pong()))
        raise RuntimeError("rolled back")
    with one.service.batch(T0):
        one.sessions.tell(user, encode(ev.Ping()))
    assert hear(two) == [Told(user, encode(ev.Ping()))]


def test_notifications_a_wake_up_never_sent_is_found_by_the_sweep(
        pair: tuple[Node, Node]) -> None:
    """A batch whose node committed it and died before its NOTIFY (sent after the COMMIT)
    still reaches its recipient on another node: that node's sweep, once a second, sees
    the queue's head past the session's cursor and reads the queue."""
    one, two = pair
    alice_line, alice, _ = one.register()
    bob_line, bob, _ = two.register()
    one.store.wakeups.take = lambda voided=(): []  # type: ignore[method-assign]  # never said
    assert one.ask(alice_line, ev.Send(alice, bob, 1, "hi")) == [ev.Accepted(bob, 1)]
    two.service.top_up()
    assert bob_line.take() == []  # no wake-up: nothing read
    with two.service.batch(T0):
        two.service.sweep()
    two.service.top_up()
    assert bob_line.take() == [ev.Deliver(alice, bob, 1, "hi")]
