"""End to end: blocks (17, 18 -> 19): a blocked sender's 1:1 messages are answered 16 and
never delivered, they cannot add the blocker to a group, and the list is the answer."""

from wire import ClientFactory, WireClient, timestamp

from server.rules_kit import TS, NodeFactory, owed_on_disk
from server.test_groups import create
from shared import events as ev
from shared.codes import ErrorCode


def block(blocker: WireClient, *users: WireClient) -> None:
    """blocker blocks each of users, each 17 answered with the list so far."""
    for count, user in enumerate(users, start=1):
        blocker.send(ev.Block(user.user))
        blocker.expect_next(ev.BlockList(tuple(sorted(u.user for u in users[:count]))))


def sent(sender: WireClient, recipient: WireClient, ts: int, text: str) -> None:
    """sender's 05 to recipient, answered 16 (whether or not it is delivered)."""
    sender.send(ev.Send(sender.user, recipient.user, ts, text))
    sender.expect_next(ev.Accepted(recipient.user, ts))


def test_block_answered_with_the_whole_list(client_factory: ClientFactory) -> None:
    """Each 17 and 18 is answered with a 19 of everyone still blocked, by number."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    block(alice, bob, carol)
    alice.send(ev.Unblock(bob.user))
    alice.expect_next(ev.BlockList((carol.user,)))
    alice.send(ev.Unblock(carol.user))
    alice.expect_next(ev.BlockList(()))
    bob.assert_silent()


def test_block_retransmitted_is_harmless(client_factory: ClientFactory) -> None:
    """A 17 again (or an 18 of someone not blocked) changes nothing and gets the same 19."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    block(alice, bob)
    alice.send(ev.Block(bob.user), ev.Unblock(bob.user),
               ev.Unblock(bob.user))
    alice.expect_next(ev.BlockList((bob.user,)))
    alice.expect_next(ev.BlockList(()))
    alice.expect_next(ev.BlockList(()))


def test_block_yourself_or_unknown_refused(client_factory: ClientFactory) -> None:
    """17 or 18 naming yourself: 13/19; naming no one who exists: 13/05."""
    alice = client_factory.registered()
    alice.send(ev.Block(alice.user))
    alice.expect_error(ErrorCode.NOT_PERMITTED)
    alice.send(ev.Unblock(alice.user))
    alice.expect_error(ErrorCode.NOT_PERMITTED)
    alice.send(ev.Block("Client-999999"))
    alice.expect_error(ErrorCode.UNKNOWN_PEER)
    alice.assert_silent()


def test_block_blocked_sender_gets_16_and_blocker_nothing(client_factory: ClientFactory) -> None:
    """A blocked user's 05 is answered 16, and the blocker gets no 06 (so no 07 either);
    others' messages still arrive."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    block(alice, bob)
    ts = timestamp()
    sent(bob, alice, ts, "let me in")
    sent(carol, alice, ts, "hi alice")
    alice.expect_next(ev.Deliver(carol.user, alice.user, ts, "hi alice"))
    alice.assert_silent()
    bob.assert_silent()


def test_block_holds_while_the_blocker_is_offline(client_factory: ClientFactory) -> None:
    """At the blocker's next login nothing from the blocked sender is queued; from others it is."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    block(alice, bob)
    alice.leave()
    ts = timestamp()
    sent(bob, alice, ts, "while you were away")
    sent(carol, alice, ts, "from carol")
    again = client_factory.logged_in(*alice.credentials())
    again.expect_next(ev.Deliver(carol.user, alice.user, ts, "from carol"))
    again.assert_silent()


def test_block_unblock_restores_later_messages(client_factory: ClientFactory) -> None:
    """After an 18, the sender's new messages are delivered; those sent while blocked are not."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    block(alice, bob)
    ts = timestamp()
    sent(bob, alice, ts, "blocked")
    alice.send(ev.Unblock(bob.user))
    alice.expect_next(ev.BlockList(()))
    sent(bob, alice, ts + 1, "welcome back")
    alice.expect_next(ev.Deliver(bob.user, alice.user, ts + 1, "welcome back"))
    alice.assert_silent()


def test_block_blocker_still_reaches_the_blocked(client_factory: ClientFactory) -> None:
    """A block is one way: the blocker's own messages are delivered as ever."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    block(alice, bob)
    ts = timestamp()
    sent(alice, bob, ts, "bye")
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "bye"))


def test_block_blocked_user_cannot_add_the_blocker_to_a_group(
        client_factory: ClientFactory) -> None:
    """A 10 listing someone who blocks the creator: 13/19, no group; the blocker may still
    add the blocked user."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    block(alice, bob)
    bob.send(ev.CreateGroup(bob.user, timestamp(), (carol.user, alice.user)))
    refused = bob.expect_error(ErrorCode.NOT_PERMITTED)
    assert refused.reason == f"cannot add {alice.user} to a group"
    bob.assert_silent()
    carol.assert_silent()
    create(alice, bob)


def test_block_seen_by_another_server_on_a_shared_database(node: NodeFactory) -> None:
    """With the caches off (shared=True), a block made through one server stops a message
    sent through another at once."""
    first, second = node(shared=True), node(shared=True)
    alice, alice_id, _ = first.register()
    bob, bob_id, _ = second.register()
    assert first.ask(alice, ev.Block(bob_id)) == [ev.BlockList((bob_id,))]
    assert second.ask(bob, ev.Send(bob_id, alice_id, TS, "hi")) == [ev.Accepted(alice_id, TS)]
    assert owed_on_disk(first) == []
    assert first.ask(alice, ev.Unblock(bob_id)) == [ev.BlockList(())]
    assert second.ask(bob, ev.Send(bob_id, alice_id, TS + 1, "hi")) == [
        ev.Accepted(alice_id, TS + 1)]
    assert owed_on_disk(first) == ["06"]

