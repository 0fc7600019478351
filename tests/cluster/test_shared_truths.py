"""What several nodes must count or lock together, in the database: the read marks of
simultaneous 08s (no 09 lost), a group message's copies acknowledged on different nodes
(its 07 comes once), and --max-queue (never exceeded, whichever node accepts)."""

from wire import ClientFactory, ServerProcess, WireClient, error, timestamp

from cluster.kit import LIVE, Nodes, make_group
from shared import events as ev
from shared.codes import ErrorCode

ROUNDS = 20


def group_across(client_factory: ClientFactory, author_on: ServerProcess,
                 members_on: list[ServerProcess]) -> tuple[WireClient, list[WireClient], str]:
    """An author and members registered on the nodes given; their group."""
    author = client_factory.registered(author_on)
    members = [client_factory.registered(node) for node in members_on]
    return author, members, make_group(author, members)


def acknowledged_round(author: WireClient, group: str, members: list[WireClient],
                       ts: int) -> None:
    """The author's message reaches every member, each acknowledges it at the same
    moment on its own node, and the author gets one 07."""
    author.send(ev.Send(author.user, group, ts, f"message {ts}"))
    author.expect_next(ev.Accepted(group, ts), LIVE)
    for member in members:
        member.expect_next(ev.Deliver(author.user, group, ts, f"message {ts}"), LIVE)
    for member in members:
        member.send(ev.Receipt(author.user, group, ts))
    author.expect_next(ev.Delivered(group, ts), LIVE)


def test_cluster_simultaneous_reads_on_different_nodes_lose_no_09(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """Two members read the author's message on two nodes at the same moment, 20 times:
    each time the author gets its 09 (before the fix, 8 times in 10 it got none)."""
    one, two, three = nodes(3)
    author, readers, group = group_across(client_factory, one, [two, three])
    start = timestamp()
    for ts in range(start, start + ROUNDS):
        acknowledged_round(author, group, readers, ts)
        for reader in readers:  # back to back: both 08s are handled at once
            reader.send(ev.Read(group, ts))
        author.expect_next(ev.ReadNotice(group, ts), LIVE)
    author.assert_silent()


def test_cluster_group_07_when_each_member_acknowledges_on_another_node(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """Three members on three nodes acknowledge each message at the same moment, 20
    times: the author gets its 07 once per message, after the last 12."""
    cluster = nodes(3)
    author, members, group = group_across(client_factory, cluster[0], cluster)
    start = timestamp()
    for ts in range(start, start + ROUNDS):
        acknowledged_round(author, group, members, ts)
    author.assert_silent()


def test_cluster_max_queue_is_counted_in_the_database(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    """Senders on two nodes fill an offline user's queue at once: exactly --max-queue
    messages are accepted between them, the rest get 13/14, and the user gets those."""
    limit = 5
    one, two = nodes(2, "--max-queue", str(limit))
    recipient = client_factory.registered(one)
    recipient.leave()
    senders = [client_factory.registered(one), client_factory.registered(two)]
    ts = timestamp()
    for sender in senders:
        sender.send(*(ev.Send(sender.user, recipient.user, ts + i, "fill") for i in range(limit)))
    accepted: list[tuple[str, int]] = []
    for sender in senders:
        for i in range(limit):
            answer = sender.next_event()
            if answer == ev.Accepted(recipient.user, ts + i):
                accepted.append((sender.user, ts + i))
            else:
                assert error(ErrorCode.QUEUE_FULL)(answer), answer
    assert len(accepted) == limit
    back = client_factory.logged_in(*recipient.credentials(), two)
    delivered = [back.next_event() for _ in range(limit)]
    assert sorted((e.src, e.ts) for e in delivered if isinstance(e, ev.Deliver)) == sorted(accepted)
    back.assert_silent()
