"""Per-recipient order across nodes: two nodes write to one user's queue thousands of
times, interleaved; the user, connected to one of them, gets every message once, each
sender's in the order sent.

Why it could fail: a seq taken at insert rather than in commit order, or a node that
sends its own entry live while another node's lower one is not yet heard of, would
move the session's cursor past an entry it never sent (docs/SCALING.md, "Order")."""

from itertools import pairwise

from wire import ClientFactory, WireClient, timestamp

from cluster.kit import Nodes
from shared import events as ev

PER_SENDER = 1500
"""Messages each of the two senders sends, all at once."""


def burst(sender: WireClient, recipient: str, first_ts: int) -> list[int]:
    """Send PER_SENDER messages in one write; their timestamps, in order."""
    stamps = [first_ts + index for index in range(PER_SENDER)]
    sender.send(*(ev.Send(sender.user, recipient, ts, f"{sender.user} {ts}") for ts in stamps))
    return stamps


def test_cluster_two_nodes_interleaving_one_queue_keep_order(
        nodes: Nodes, client_factory: ClientFactory) -> None:
    one, two = nodes(2)
    recipient = client_factory.registered(one)
    local, remote = client_factory.registered(one), client_factory.registered(two)
    ts = timestamp()
    sent = {local.user: burst(local, recipient.user, ts),
            remote.user: burst(remote, recipient.user, ts)}
    got: dict[str, list[int]] = {local.user: [], remote.user: []}
    authors = []
    for _ in range(2 * PER_SENDER):
        event = recipient.next_event()
        assert isinstance(event, ev.Deliver), event
        got[event.src].append(event.ts)
        authors.append(event.src)
    assert got == sent  # each sender's messages, all, in order, none twice
    turns = sum(1 for a, b in pairwise(authors) if a != b)
    print(f"the queue changed writers {turns} times")
    assert turns >= 3  # the two nodes did take turns (a node locks for 64 frames at a time)
    for sender in (local, remote):
        for stamp in sent[sender.user]:
            sender.expect_next(ev.Accepted(recipient.user, stamp))
    recipient.assert_silent()
