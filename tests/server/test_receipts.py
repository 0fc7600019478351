"""End to end: read receipts (08 -> 09) and the 07/09 owed to an author who is offline."""

import pytest
from wire import ClientFactory, WireClient, timestamp

from shared import events as ev
from shared.codes import ErrorCode


def deliver(author: WireClient, reader: WireClient, ts: int, text: str = "hi",
            acknowledge: bool = True) -> None:
    """author -> reader: 05, 16, 06 and, if acknowledge, 12 and the author's 07."""
    author.send(ev.Send(author.user, reader.user, ts, text))
    author.expect_next(ev.Accepted(reader.user, ts))
    reader.expect_next(ev.Deliver(author.user, reader.user, ts, text))
    if acknowledge:
        reader.send(ev.Receipt(author.user, reader.user, ts))
        author.expect_next(ev.Delivered(reader.user, ts))


def test_read_notice_sent_to_author(client_factory: ClientFactory) -> None:
    """A 1:1 08<author><ts> brings the author 09<reader><ts>."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    deliver(alice, bob, ts + 1)
    bob.send(ev.Read(alice.user, ts + 1))
    alice.expect_next(ev.ReadNotice(bob.user, ts + 1))
    bob.assert_silent()


def test_read_notice_names_newest_message_read(client_factory: ClientFactory) -> None:
    """The 09 carries the ts of the newest message covered, not the ts of the 08."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    bob.send(ev.Read(alice.user, ts + 100))
    alice.expect_next(ev.ReadNotice(bob.user, ts))


def test_read_notice_only_up_to_ts(client_factory: ClientFactory) -> None:
    """An 08 covers messages up to its ts only; a later 08 covering more brings a new 09."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    deliver(alice, bob, ts + 5)
    bob.send(ev.Read(alice.user, ts + 2))
    alice.expect_next(ev.ReadNotice(bob.user, ts))
    bob.send(ev.Read(alice.user, ts + 5))
    alice.expect_next(ev.ReadNotice(bob.user, ts + 5))


def test_read_counts_only_acknowledged(client_factory: ClientFactory) -> None:
    """Read receipts count only messages the reader acknowledged with 12."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    deliver(alice, bob, ts + 1, acknowledge=False)
    bob.send(ev.Read(alice.user, ts + 1))
    alice.expect_next(ev.ReadNotice(bob.user, ts))
    bob.assert_silent()
    alice.assert_silent()


def test_read_nothing_acknowledged_ignored(client_factory: ClientFactory) -> None:
    """An 08 when nothing from that peer was acknowledged is ignored: no 09, no error."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts, acknowledge=False)
    bob.send(ev.Read(alice.user, ts))
    bob.assert_silent()
    alice.assert_silent()


def test_read_covering_nothing_new_ignored(client_factory: ClientFactory) -> None:
    """A repeated 08 covers nothing new: no second 09."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    bob.send(ev.Read(alice.user, ts))
    alice.expect_next(ev.ReadNotice(bob.user, ts))
    bob.send(ev.Read(alice.user, ts))
    bob.send(ev.Read(alice.user, ts + 50))
    bob.assert_silent()
    alice.assert_silent()


def test_read_older_ts_ignored(client_factory: ClientFactory) -> None:
    """A 09 is sent only when its ts grows: an 08 with an older ts is ignored."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    deliver(alice, bob, ts + 1)
    bob.send(ev.Read(alice.user, ts + 1))
    alice.expect_next(ev.ReadNotice(bob.user, ts + 1))
    bob.send(ev.Read(alice.user, ts))
    bob.assert_silent()
    alice.assert_silent()


@pytest.mark.parametrize("peer", [
    pytest.param("Client-999999", id="user"),
    pytest.param("Group-9999999", id="group"),
])
def test_read_unknown_peer_refused(client_factory: ClientFactory, peer: str) -> None:
    """An 08 naming a peer that does not exist gets 13/05."""
    bob = client_factory.registered()
    bob.send(ev.Read(peer, timestamp()))
    bob.expect_error(ErrorCode.UNKNOWN_PEER)
    bob.assert_silent()


def test_read_group_not_member_refused(client_factory: ClientFactory) -> None:
    """An 08 naming a group you are not in gets 13/07."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    eve = client_factory.registered()
    alice.send(ev.CreateGroup(alice.user, timestamp(), (bob.user,)))
    created = alice.expect_next(ev.GroupCreated)
    assert isinstance(created, ev.GroupCreated)
    eve.send(ev.Read(created.group, timestamp()))
    eve.expect_error(ErrorCode.NOT_A_MEMBER)


def test_delivered_waits_for_offline_author(client_factory: ClientFactory) -> None:
    """A 07 owed to an author who is offline is sent after the 04 of its next login."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts, acknowledge=False)
    alice.leave()
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    bob.assert_silent()
    again = client_factory.logged_in(*alice.credentials())
    again.expect_next(ev.Delivered(bob.user, ts))
    again.assert_silent()


def test_read_notice_waits_for_offline_author(client_factory: ClientFactory) -> None:
    """A 09 owed to an author who is offline is sent after the 04 of its next login."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    alice.leave()
    bob.send(ev.Read(alice.user, ts))
    bob.assert_silent()
    again = client_factory.logged_in(*alice.credentials())
    again.expect_next(ev.ReadNotice(bob.user, ts))
    again.assert_silent()


def test_owed_frames_keep_their_order(client_factory: ClientFactory) -> None:
    """07 and 09 owed to an offline author arrive in the order the server made them."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts, acknowledge=False)
    deliver(alice, bob, ts + 1, acknowledge=False)
    alice.leave()
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    bob.send(ev.Read(alice.user, ts))
    bob.send(ev.Receipt(alice.user, bob.user, ts + 1))
    bob.assert_silent()
    again = client_factory.logged_in(*alice.credentials())
    again.expect_next(ev.Delivered(bob.user, ts))
    again.expect_next(ev.ReadNotice(bob.user, ts))
    again.expect_next(ev.Delivered(bob.user, ts + 1))


def test_delivered_stays_queued_until_the_ping_after_it_is_answered(
        client_factory: ClientFactory) -> None:
    """A 07 is followed by the server's 14; left unanswered, the 07 comes again at the next
    login (its bytes may never have been read); once answered, it is gone."""
    alice = client_factory.registered()
    alice.answer_pings = False
    bob = client_factory.registered()
    ts = timestamp()
    deliver(alice, bob, ts)
    alice.expect_next(ev.Ping())
    alice.close()  # without the 15
    again = client_factory.logged_in(*alice.credentials())
    again.expect_next(ev.Delivered(bob.user, ts))
    again.leave()  # answers the 14 on the way out
    third = client_factory.logged_in(*alice.credentials())
    third.assert_silent()
