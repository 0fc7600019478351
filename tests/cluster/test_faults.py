"""The faults of a cluster: a node killed (kill -9) in the middle of a burst while its
clients reconnect to the others; a node's listening connection terminated, again and
again (no wake-up lost); nodes started at once on an empty database."""

from postgres import Cluster
from wire import ClientFactory, timestamp

from cluster.kit import LIVE, Nodes
from shared import events as ev

BURST = 3000
"""Messages the sender sends in one write before its node is killed."""
KILL_AFTER = 100
"""16s the sender reads before its node is killed."""
CUTS = 3
"""Times a node's listening connection is terminated."""


def test_cluster_node_killed_mid_burst_loses_nothing(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """The sender's node dies by kill -9 after 100 of 3000 16s; the sender reconnects to a
    third node and sends again every message it has no 16 for (same keys). The recipient,
    on the second node, gets every message once, in order; the sender has a 16 for each."""
    doomed, home, spare = nodes(3)
    recipient = client_factory.registered(home)
    sender = client_factory.registered(doomed)
    first = timestamp()
    stamps = list(range(first, first + BURST))
    sender.send(*(ev.Send(sender.user, recipient.user, ts, f"n{ts}") for ts in stamps))
    accepted = {sender.expect_next(ev.Accepted).ts  # type: ignore[attr-defined]
                for _ in range(KILL_AFTER)}
    doomed.kill()
    accepted |= {event.ts for event in sender.drain_until_closed()
                 if isinstance(event, ev.Accepted)}
    again = client_factory.logged_in(*sender.credentials(), spare)
    rest = [ts for ts in stamps if ts not in accepted]
    again.send(*(ev.Send(sender.user, recipient.user, ts, f"n{ts}") for ts in rest))
    for ts in rest:
        again.expect_next(ev.Accepted(recipient.user, ts))
    for ts in stamps:  # WireClient fails on a 06 sent twice on one connection
        recipient.expect_next(ev.Deliver(sender.user, recipient.user, ts, f"n{ts}"))
    recipient.assert_silent()
    print(f"{len(accepted)} of {BURST} accepted before the kill, {len(rest)} sent again")
    assert rest, "the node was not killed in the middle of the burst"


def listener_pid(cluster: Cluster, node: str) -> int:
    rows = cluster.sql("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                       f"interzap listen {node}")
    assert len(rows) == 1, rows
    return int(rows[0][0])


def cut_listener(cluster: Cluster, node: str) -> None:
    """Terminate the node's listening session (found by its application_name)."""
    [(ended,)] = cluster.sql("SELECT pg_terminate_backend(%s)", listener_pid(cluster, node))
    assert ended


def test_cluster_listener_cut_loses_no_wake_up(
        nodes: Nodes, client_factory: ClientFactory, postgres_cluster: Cluster) -> None:
    """The recipient's node loses its listening connection three times while a sender on
    another node keeps sending: every message still arrives, in order, the ones committed
    while nobody listened found by reading the queue again once it listens again."""
    sending, receiving = nodes(2)
    sender = client_factory.registered(sending)
    recipient = client_factory.registered(receiving)
    ts = timestamp()
    for cut in range(CUTS):
        texts = [f"cut {cut} message {index}" for index in range(20)]
        sender.send(*(ev.Send(sender.user, recipient.user, ts + i, text)
                      for i, text in enumerate(texts[:10])))
        cut_listener(postgres_cluster, "node-2")
        sender.send(*(ev.Send(sender.user, recipient.user, ts + 10 + i, text)
                      for i, text in enumerate(texts[10:])))
        for i, text in enumerate(texts):
            sender.expect_next(ev.Accepted(recipient.user, ts + i))
            recipient.expect_next(ev.Deliver(sender.user, recipient.user, ts + i, text))
        ts += len(texts)
    recipient.assert_silent()
    log = receiving.log_tail(1000)
    assert log.count("lost the connection that hears the other nodes") == CUTS, log
    assert log.count("listening to the other nodes again") == CUTS, log


def test_cluster_three_nodes_start_at_once_on_an_empty_database(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """Three nodes started together on an empty database all serve: a message goes round
    from a user of each to a user of the next."""
    cluster = nodes(3)
    users = [client_factory.registered(node) for node in cluster]
    ts = timestamp()
    for index, author in enumerate(users):
        reader = users[(index + 1) % len(users)]
        author.send(ev.Send(author.user, reader.user, ts, f"round from {index + 1}"))
        author.expect_next(ev.Accepted(reader.user, ts), LIVE)
        reader.expect_next(ev.Deliver(author.user, reader.user, ts, f"round from {index + 1}"),
                           LIVE)

