"""End to end: 27 typing relayed to those online, 29 presence ask -> 30, the 30s pushed to
those who asked when someone comes and goes, 28 privacy, and what blocks hide."""

from wire import ClientFactory, ServerFactory, WireClient, timestamp

from server.test_groups import create
from server.test_info import group_of
from server.test_restart import deliver
from shared import events as ev
from shared.codes import ErrorCode


def chat(one: WireClient, other: WireClient) -> None:
    """one sends other a 1:1 message, delivered and acknowledged: they share a chat."""
    ts = timestamp()
    deliver(one, other, ts)
    other.send(ev.Receipt(one.user, other.user, ts))
    one.expect_next(ev.Delivered(other.user, ts))


def presence(viewer: WireClient, user: str) -> int:
    viewer.send(ev.PresenceAsk(user))
    # expect, not expect_next: a 07 not yet confirmed may come again after a restart
    answer = viewer.expect(lambda e: isinstance(e, ev.Presence) and e.user == user)
    assert isinstance(answer, ev.Presence)
    return answer.ts


def test_typing_reaches_the_peer_and_group_members_once_per_interval(
        client_factory: ClientFactory) -> None:
    """A 27 goes to the 1:1 peer, or to the group's other members online, as 27<src><dst>;
    a second one at once is dropped; nobody gets an answer."""
    group, (alice, bob, carol) = group_of(client_factory, 3)
    alice.send(ev.Typing(alice.user, bob.user), ev.Typing(alice.user, bob.user))
    bob.expect_next(ev.Typing(alice.user, bob.user))
    alice.send(ev.Typing(alice.user, group))
    bob.expect_next(ev.Typing(alice.user, group))
    carol.expect_next(ev.Typing(alice.user, group))
    alice.assert_silent()
    bob.assert_silent()
    carol.assert_silent()


def test_typing_that_cannot_be_relayed_is_dropped_silently(client_factory: ClientFactory) -> None:
    """Someone else's src, a group you are not in, nobody, or a peer who blocks you: no 27
    anywhere and no 13 (nobody waits on a 27); typing is never queued for the offline."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    group = create(bob, carol).group
    bob.send(ev.Block(alice.user))
    bob.expect(ev.BlockList((alice.user,)))
    carol.expect(ev.GroupCreated)
    alice.send(ev.Typing(bob.user, carol.user), ev.Typing(alice.user, group),
               ev.Typing(alice.user, "Client-999999"), ev.Typing(alice.user, bob.user))
    alice.sync()
    offline = carol.credentials()
    carol.leave()
    bob.send(ev.Typing(bob.user, group))
    bob.sync()
    carol = client_factory.logged_in(*offline)
    carol.assert_silent()
    bob.assert_silent()
    alice.assert_silent()


def test_presence_online_then_last_seen_pushed_to_who_asked(client_factory: ClientFactory) -> None:
    """29 about a contact online: 30 ts 0; when they leave, the asker gets their last seen;
    back, online again; a 29 after they left says the same last seen."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    chat(alice, bob)
    assert presence(alice, bob.user) == ev.ONLINE
    credentials = bob.credentials()
    before = timestamp()
    bob.leave()
    gone = alice.expect_next(lambda e: isinstance(e, ev.Presence) and e.user == bob.user)
    assert isinstance(gone, ev.Presence) and before <= gone.ts <= timestamp()
    assert presence(alice, bob.user) == gone.ts
    client_factory.logged_in(*credentials)
    alice.expect_next(ev.Presence(bob.user, ev.ONLINE))


def test_presence_hidden_from_strangers_and_blocked(client_factory: ClientFactory) -> None:
    """No shared chat: HIDDEN; blocked by the user asked about: HIDDEN, and no push; 13/05
    for nobody; your own: ONLINE."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    stranger = client_factory.registered()
    assert presence(stranger, alice.user) == ev.HIDDEN
    chat(alice, bob)
    bob.send(ev.Block(alice.user))
    bob.expect_next(ev.BlockList((alice.user,)))
    assert presence(alice, bob.user) == ev.HIDDEN
    assert presence(bob, alice.user) == ev.ONLINE
    assert presence(alice, alice.user) == ev.ONLINE
    alice.send(ev.PresenceAsk("Client-999999"))
    alice.expect_error(ErrorCode.UNKNOWN_PEER)
    bob.leave()
    alice.assert_silent()


def test_privacy_hides_both_ways_and_is_idempotent(client_factory: ClientFactory) -> None:
    """28 1: answered by your own 30 HIDDEN (again: the same); contacts see HIDDEN and you
    see HIDDEN for them; 28 0 shares again."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    chat(alice, bob)
    alice.send(ev.Privacy(1), ev.Privacy(1))
    alice.expect_next(ev.Presence(alice.user, ev.HIDDEN))
    alice.expect_next(ev.Presence(alice.user, ev.HIDDEN))
    assert presence(bob, alice.user) == ev.HIDDEN
    assert presence(alice, bob.user) == ev.HIDDEN
    alice.send(ev.Privacy(0))
    alice.expect_next(ev.Presence(alice.user, ev.ONLINE))
    assert presence(bob, alice.user) == ev.ONLINE
    assert presence(alice, bob.user) == ev.ONLINE


def test_presence_after_kill_is_the_last_login_not_online(server_factory: ServerFactory,
                                                         client_factory: ClientFactory) -> None:
    """A server killed with bob online: restarted, it says bob's last seen (its last
    heartbeat: test_presence_crash.py) and no longer online."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    chat(alice, bob)
    assert presence(alice, bob.user) == ev.ONLINE
    server.kill()
    restarted = server_factory.start()
    again = client_factory.logged_in(*alice.credentials(), restarted)
    seen = presence(again, bob.user)
    assert 0 < seen <= timestamp()
