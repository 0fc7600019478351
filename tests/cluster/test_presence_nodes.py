"""Presence across nodes (PROTOCOL.md 5.14, docs/SCALING.md "Presence across nodes"): a
node killed leaves its users online in the table; within a few seconds a live node marks
them offline, last seen at the dead node's last heartbeat, and who asked hears it; a
user who failed over is online. In process (rules_kit Nodes on one PostgreSQL database):
a node only slow, taken for dead, brings its users back; a dead node's users go a batch a
tick; a departure on the node a user already left does not say them gone."""

import pytest
from postgres import Cluster
from server.rules_kit import T0, TS, Line, Node
from server.test_live_nodes import group_on
from server.test_presence import chat, presence
from wire import ClientFactory, WireClient, timestamp

from cluster.kit import Nodes
from cluster.test_notifications import hear
from interzap_server.storage import Heard, Told
from interzap_server.storage import presence as presence_table
from interzap_server.storage.presence import STALE
from shared import events as ev
from shared.codec import encode

NOTICED = STALE + 15
"""Seconds within which a dead node's users are said offline: STALE, a tick, and a guard
for a loaded machine."""


def gone(asker: WireClient, user: str) -> int:
    """The 30 about `user` that says a last seen (not ONLINE), pushed to `asker`."""
    said = asker.expect(lambda e: isinstance(e, ev.Presence) and e.user == user
                        and e.ts != ev.ONLINE, NOTICED)
    assert isinstance(said, ev.Presence)
    return said.ts


def test_presence_nodes_a_killed_nodes_users_go_offline(nodes: Nodes,
                                                        client_factory: ClientFactory) -> None:
    """alice on a live node asked about bob and carol, both on a node killed with -9; carol
    fails over to alice's node. alice hears bob last seen (between his login and the
    kill), a 29 says the same, and carol is online."""
    doomed, home = nodes(2)
    alice = client_factory.registered(home)
    login = timestamp()
    bob = client_factory.registered(doomed)
    carol = client_factory.registered(doomed)
    chat(alice, bob)
    chat(alice, carol)
    assert presence(alice, bob.user) == presence(alice, carol.user) == ev.ONLINE
    doomed.kill()
    killed = timestamp()
    carol = client_factory.logged_in(*carol.credentials(), home)
    seen = gone(alice, bob.user)
    assert login <= seen <= killed
    assert presence(alice, bob.user) == seen
    assert presence(alice, carol.user) == ev.ONLINE
    print(f"bob last seen {killed - seen} s before the kill, said {timestamp() - killed} s "
          "after it")


def hear_told(node: Node) -> list[Heard]:
    """What the node's listener drains until an ephemeral frame comes (Told): the other
    node's logins (Replaced) may come first, alone."""
    heard: list[Heard] = []
    while not any(isinstance(item, Told) for item in heard):
        more = hear(node)
        assert more, "no ephemeral frame within the guard"
        heard += more
    return heard


def beat(node: Node, now: float = T0) -> None:
    """The node's tick: its heartbeat, the dead nodes' users, its sweep; committed."""
    with node.service.batch(now):
        node.service.sweep()
    node.service.settle()


def silence(cluster: Cluster, node: Node, seconds: int) -> int:
    """Make the node's heartbeat `seconds` older, as if it had said nothing since; the
    heartbeat it then has."""
    session = cluster.session(str(node.db))
    try:
        with session, session.cursor() as cursor:
            cursor.execute('UPDATE "heartbeat" SET "alive" = "alive" - %s WHERE "origin" = %s '
                           'RETURNING "alive"', (seconds, node.store.wakeups.origin))
            (alive,) = cursor.fetchone()
    finally:
        session.close()
    return int(alive)


def watching(one: Node, two: Node) -> tuple[Line, str, Line, str, str]:
    """alice on node one, asking (29) about bob on node two, both beating: bob is online.
    Returns alice's line and id, bob's line, id and token."""
    a, alice, _ = one.register()
    b, bob, token = two.register()
    group_on(one, a, alice, bob)
    beat(one)
    beat(two)
    assert one.ask(a, ev.PresenceAsk(bob)) == [ev.Presence(bob, ev.ONLINE)]
    return a, alice, b, bob, token


def test_presence_nodes_a_slow_node_taken_for_dead_brings_its_users_back(
        pair: tuple[Node, Node], postgres_cluster: Cluster) -> None:
    """Node two silent longer than STALE: bob is last seen at its heartbeat (a 29 says so
    at once); node one's tick marks him offline and alice hears it; node two's next
    heartbeat finds its row gone, marks bob online again, and alice hears that too."""
    one, two = pair
    a, _, _, bob, _ = watching(one, two)
    last = silence(postgres_cluster, two, STALE + 60)
    assert one.ask(a, ev.PresenceAsk(bob)) == [ev.Presence(bob, last)]
    beat(one)
    assert a.take() == [ev.Presence(bob, last)]
    assert one.ask(a, ev.PresenceAsk(bob)) == [ev.Presence(bob, last)]
    beat(one)  # the dead node's users are marked once
    assert a.take() == []
    beat(two)
    one.service.hear(hear_told(one))
    assert a.take() == [ev.Presence(bob, ev.ONLINE)]
    assert one.ask(a, ev.PresenceAsk(bob)) == [ev.Presence(bob, ev.ONLINE)]


def test_presence_nodes_a_dead_nodes_users_go_a_batch_a_tick(
        pair: tuple[Node, Node], postgres_cluster: Cluster,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One user a tick (REAP_BATCH 1): node two silent, node one's tick marks one of bob and
    dave offline; node two beats again before the other: its heartbeat was stale, so the
    one marked is online again (alice hears it), and the other was never marked."""
    monkeypatch.setattr(presence_table, "REAP_BATCH", 1)
    one, two = pair
    a, alice, _, bob, _ = watching(one, two)
    _, dave, _ = two.register()
    [created] = one.ask(a, ev.CreateGroup(alice, TS + 1, (dave,)))  # group_on's TS is bob's
    assert isinstance(created, ev.GroupCreated)
    assert one.ask(a, ev.PresenceAsk(dave)) == [ev.Presence(dave, ev.ONLINE)]
    last = silence(postgres_cluster, two, STALE + 60)
    beat(one)
    [marked] = a.take()
    assert isinstance(marked, ev.Presence) and marked.user in (bob, dave) and marked.ts == last
    beat(two)
    one.service.hear(hear_told(one))
    assert a.take() == [ev.Presence(marked.user, ev.ONLINE)]
    beat(one)
    assert a.take() == []
    for user in (bob, dave):
        assert one.ask(a, ev.PresenceAsk(user)) == [ev.Presence(user, ev.ONLINE)]


def test_presence_nodes_a_departure_after_a_login_elsewhere_says_nothing(
        pair: tuple[Node, Node]) -> None:
    """bob logs in on node one while his old connection on node two ends afterwards: his row
    names node one, so node two's departure leaves it online and tells alice nothing."""
    one, two = pair
    a, alice, b, bob, token = watching(one, two)
    one.log_in(bob, token)
    assert a.take() == [ev.Presence(bob, ev.ONLINE)]
    two.service.disconnect(b)
    two.frame(T0 + 5)  # the departure is recorded
    marker = encode(ev.Pong())
    with two.service.batch(T0 + 6):
        two.sessions.tell(alice, marker)  # after the departure's batch
    one.service.hear(hear_told(one))
    assert a.take() == [ev.Pong()]
    assert one.ask(a, ev.PresenceAsk(bob)) == [ev.Presence(bob, ev.ONLINE)]
