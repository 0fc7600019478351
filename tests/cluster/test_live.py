"""Live delivery between nodes: what one node commits reaches a user connected to another
within a second, through PostgreSQL's NOTIFY (storage/wakeups.py), with nothing sent
twice; a login on one node replaces the session on another (13/12)."""

from wire import ClientFactory, ServerFactory, error, timestamp

from cluster.kit import LIVE, Nodes, make_group
from shared import events as ev
from shared.codes import ErrorCode


def test_cluster_one_to_one_live_across_two_nodes(nodes: Nodes,
                                                  client_factory: ClientFactory) -> None:
    """Alice on node 1, Bob on node 2: 16, 06, 12 -> 07, 08 -> 09, each within a second."""
    one, two = nodes(2)
    alice, bob = client_factory.registered(one), client_factory.registered(two)
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "hello across"))
    alice.expect_next(ev.Accepted(bob.user, ts), LIVE)
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "hello across"), LIVE)
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts), LIVE)
    bob.send(ev.Read(alice.user, ts))
    alice.expect_next(ev.ReadNotice(bob.user, ts), LIVE)
    ts2 = timestamp(1)
    bob.send(ev.Send(bob.user, alice.user, ts2, "and back"))  # the other way too
    bob.expect_next(ev.Accepted(alice.user, ts2), LIVE)
    alice.expect_next(ev.Deliver(bob.user, alice.user, ts2, "and back"), LIVE)
    alice.assert_silent()
    bob.assert_silent()


def test_cluster_group_live_across_three_nodes(nodes: Nodes,
                                               client_factory: ClientFactory) -> None:
    """A group of three, one member per node: 11, 06, the 07 after the last 12, the 09
    after the last 08, each within a second."""
    members = [client_factory.registered(node) for node in nodes(3)]
    creator, *others = members
    group = make_group(creator, others)
    ts = timestamp()
    creator.send(ev.Send(creator.user, group, ts, "to all"))
    creator.expect_next(ev.Accepted(group, ts), LIVE)
    for member in others:
        member.expect_next(ev.Deliver(creator.user, group, ts, "to all"), LIVE)
    for member in others:
        member.send(ev.Receipt(creator.user, group, ts))
    creator.expect_next(ev.Delivered(group, ts), LIVE)
    for member in others:
        member.send(ev.Read(group, ts))
    creator.expect_next(ev.ReadNotice(group, ts), LIVE)
    for member in members:
        member.assert_silent()


def test_cluster_second_login_on_another_node_replaces_the_first(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """One session per user across the cluster: a login on node 2 closes node 1's session
    with 13/12, and only the new one gets what comes next."""
    one, two = nodes(2)
    first = client_factory.registered(one)
    sender = client_factory.registered(one)
    again = client_factory.logged_in(*first.credentials(), two)
    first.expect_next(error(ErrorCode.REPLACED), LIVE)
    first.expect_closed(LIVE)
    ts = timestamp()
    sender.send(ev.Send(sender.user, again.user, ts, "to the new session"))
    again.expect_next(ev.Deliver(sender.user, again.user, ts, "to the new session"), LIVE)
    again.assert_silent()  # not replaced by its own login's notification


def test_cluster_logins_on_two_nodes_at_once_leave_one_session(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """One user's logins sent at once to two nodes, five times: each time exactly one
    session survives (the one that logged in last), the other gets 13/12. A message from a
    third node, notified after both logins, tells them apart: the survivor gets it."""
    one, two, three = nodes(3)
    user = client_factory.registered(one)
    sender = client_factory.registered(three)
    user.leave()
    for round_ in range(5):
        pair = [client_factory.connect(one), client_factory.connect(two)]
        for client in pair:
            client.send(ev.Login(*user.credentials()))
        for client in pair:
            client.expect_next(ev.LoggedIn(user.user), LIVE)
        ts = timestamp(round_)
        sender.send(ev.Send(sender.user, user.user, ts, f"round {round_}"))
        sender.expect_next(ev.Accepted(user.user, ts), LIVE)
        firsts = [client.next_event(LIVE) for client in pair]
        survivors = [c for c, e in zip(pair, firsts, strict=True) if isinstance(e, ev.Deliver)]
        assert len(survivors) == 1, firsts
        assert any(error(ErrorCode.REPLACED)(e) for e in firsts), firsts
        survivors[0].send(ev.Receipt(sender.user, user.user, ts))
        sender.expect_next(ev.Delivered(user.user, ts), LIVE)


def test_cluster_nodes_share_one_port_and_name_themselves(
        server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """--reuse-port: a second node listens on the first one's port; --node names each
    node in its log lines. A message crosses between users wherever the kernel put them."""
    first = server_factory.start(extra_args=["--reuse-port", "--node", "alpha"])
    second = server_factory.start(port=first.port, extra_args=["--reuse-port",
                                                               "--node", "beta"])
    assert second.port == first.port
    alice, bob = client_factory.registered(first), client_factory.registered(second)
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "one port"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "one port"), LIVE)
    for server, name in ((first, "alpha"), (second, "beta")):
        lines = server.log_tail(20).splitlines()
        assert lines and all(f" {name} " in line for line in lines), lines
