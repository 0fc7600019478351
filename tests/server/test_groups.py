"""End to end: groups: creation (10 -> 11), validation, fan-out, group 07 and group 09."""

from collections.abc import Callable

import pytest
from wire import ClientFactory, ServerProcess, WireClient, timestamp

from shared import events as ev
from shared.codes import ErrorCode


def create(creator: WireClient, *members: WireClient, ts: int | None = None) -> ev.GroupCreated:
    """creator sends 10 with these members and gets its 11."""
    ts = timestamp() if ts is None else ts
    creator.send(ev.CreateGroup(creator.user, ts, tuple(member.user for member in members)))
    expected = (creator.user, *(member.user for member in members))
    created = creator.expect_next(
        lambda event: isinstance(event, ev.GroupCreated) and event.members == expected)
    assert isinstance(created, ev.GroupCreated)
    assert created.ts == ts
    return created


def test_group_created_sent_to_every_member(client_factory: ClientFactory) -> None:
    """A 10 brings every member the same 11: the group, the ts, the creator then the members."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    ts = timestamp()
    created = create(alice, carol, bob, ts=ts)
    assert created.members == (alice.user, carol.user, bob.user)
    bob.expect_next(created)
    carol.expect_next(created)


def test_group_ids_in_order(server: ServerProcess, client_factory: ClientFactory) -> None:
    """On a fresh database groups are numbered Group-0000001, Group-0000002, ..."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    assert create(alice, bob, ts=ts).group == "Group-0000001"
    assert create(alice, bob, ts=ts + 1).group == "Group-0000002"


def test_group_create_repeated_same_group(server: ServerProcess,
                                          client_factory: ClientFactory) -> None:
    """A 10 repeated with the same (creator, ts) sends the same 11 again and makes no group."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    first = create(alice, bob, ts=ts)
    assert create(alice, bob, ts=ts) == first
    assert first.group == "Group-0000001"
    assert create(alice, bob, ts=ts + 1).group == "Group-0000002"


def test_group_created_queued_for_offline_member(client_factory: ClientFactory) -> None:
    """An offline member gets the 11 at login, before that group's 06s."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    carol.leave()
    created = create(alice, bob, carol)
    ts = timestamp()
    alice.send(ev.Send(alice.user, created.group, ts, "welcome"))
    alice.expect_next(ev.Accepted(created.group, ts))
    again = client_factory.logged_in(*carol.credentials())
    again.expect_next(created)
    again.expect_next(ev.Deliver(alice.user, created.group, ts, "welcome"))
    again.assert_silent()


MemberList = Callable[[WireClient, list[WireClient]], tuple[str, ...]]


@pytest.mark.parametrize("members", [
    pytest.param(lambda creator, others: (), id="no-member"),
    pytest.param(lambda creator, others: (others[0].user, creator.user), id="creator-listed"),
    pytest.param(lambda creator, others: (others[0].user, others[1].user, others[0].user),
                 id="duplicate"),
    pytest.param(lambda creator, others: tuple(other.user for other in others[:9]),
                 id="nine-members"),
])
def test_group_invalid_refused(client_factory: ClientFactory, members: MemberList) -> None:
    """A 10 with no member, over 8, a duplicate, or the creator listed gets 13/08."""
    alice = client_factory.registered()
    others = [client_factory.registered() for _ in range(9)]
    alice.send(ev.CreateGroup(alice.user, timestamp(), members(alice, others)))
    alice.expect_error(ErrorCode.INVALID_GROUP)
    alice.assert_silent()
    others[0].assert_silent()


def test_group_invalid_creates_nothing(server: ServerProcess,
                                       client_factory: ClientFactory) -> None:
    """A refused 10 makes no group: the next valid one is Group-0000001."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    alice.send(ev.CreateGroup(alice.user, timestamp(), (bob.user, bob.user)))
    alice.expect_error(ErrorCode.INVALID_GROUP)
    assert create(alice, bob, ts=timestamp() + 1).group == "Group-0000001"


def test_group_eight_members_accepted(client_factory: ClientFactory) -> None:
    """A 10 with 8 members makes a group of 9, and every member gets its 11."""
    alice = client_factory.registered()
    others = [client_factory.registered() for _ in range(8)]
    created = create(alice, *others)
    for other in others:
        other.expect_next(created)


def test_group_unknown_member_refused(client_factory: ClientFactory) -> None:
    """A 10 listing a user that does not exist gets 13/05, and nobody gets an 11."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    alice.send(ev.CreateGroup(alice.user, timestamp(), (bob.user, "Client-999999")))
    alice.expect_error(ErrorCode.UNKNOWN_PEER)
    bob.assert_silent()


def test_group_spoofed_creator_refused(client_factory: ClientFactory) -> None:
    """A 10 whose creator is not the logged-in id gets 13/06."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    alice.send(ev.CreateGroup(bob.user, timestamp(), (carol.user,)))
    alice.expect_error(ErrorCode.NOT_YOU)
    bob.assert_silent()
    carol.assert_silent()


def test_group_message_fans_out(client_factory: ClientFactory) -> None:
    """A 05 to a group reaches every other member as 06<author><group>, not the author."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    created = create(alice, bob, carol)
    bob.expect_next(created)
    carol.expect_next(created)
    ts = timestamp()
    alice.send(ev.Send(alice.user, created.group, ts, "hello all"))
    alice.expect_next(ev.Accepted(created.group, ts))
    bob.expect_next(ev.Deliver(alice.user, created.group, ts, "hello all"))
    carol.expect_next(ev.Deliver(alice.user, created.group, ts, "hello all"))
    alice.assert_silent()


def test_group_message_by_member_fans_out(client_factory: ClientFactory) -> None:
    """Any member, not only the creator, can write to the group."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    created = create(alice, bob)
    bob.expect_next(created)
    ts = timestamp()
    bob.send(ev.Send(bob.user, created.group, ts, "me too"))
    bob.expect_next(ev.Accepted(created.group, ts))
    alice.expect_next(ev.Deliver(bob.user, created.group, ts, "me too"))


def test_group_delivered_after_every_receipt(client_factory: ClientFactory) -> None:
    """The author gets 07<group><ts> only once every other member sent its 12."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    created = create(alice, bob, carol)
    ts = timestamp()
    alice.send(ev.Send(alice.user, created.group, ts, "count the ticks"))
    alice.expect_next(ev.Accepted(created.group, ts))
    for member in (bob, carol):
        member.expect_next(created)
        member.expect_next(ev.Deliver(alice.user, created.group, ts, "count the ticks"))
    bob.send(ev.Receipt(alice.user, created.group, ts))
    bob.assert_silent()
    alice.assert_silent()
    carol.send(ev.Receipt(alice.user, created.group, ts))
    alice.expect_next(ev.Delivered(created.group, ts))
    alice.assert_silent()


def test_group_delivered_waits_for_offline_member(client_factory: ClientFactory) -> None:
    """A member offline when the message was sent delays the 07 until its own 12 after login."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    carol.leave()
    created = create(alice, bob, carol)
    bob.expect_next(created)
    ts = timestamp()
    alice.send(ev.Send(alice.user, created.group, ts, "wait for carol"))
    alice.expect_next(ev.Accepted(created.group, ts))
    bob.expect_next(ev.Deliver(alice.user, created.group, ts, "wait for carol"))
    bob.send(ev.Receipt(alice.user, created.group, ts))
    bob.assert_silent()
    alice.assert_silent()
    again = client_factory.logged_in(*carol.credentials())
    again.expect_next(created)
    again.expect_next(ev.Deliver(alice.user, created.group, ts, "wait for carol"))
    alice.assert_silent()
    again.send(ev.Receipt(alice.user, created.group, ts))
    alice.expect_next(ev.Delivered(created.group, ts))


def test_group_read_notice_after_every_member_read(client_factory: ClientFactory) -> None:
    """The author gets 09<group><ts> only once every other member read up to ts."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    created = create(alice, bob, carol)
    ts = timestamp()
    alice.send(ev.Send(alice.user, created.group, ts, "read me"))
    alice.expect_next(ev.Accepted(created.group, ts))
    for member in (bob, carol):
        member.expect_next(created)
        member.expect_next(ev.Deliver(alice.user, created.group, ts, "read me"))
        member.send(ev.Receipt(alice.user, created.group, ts))
    alice.expect_next(ev.Delivered(created.group, ts))
    bob.send(ev.Read(created.group, ts))
    bob.assert_silent()
    alice.assert_silent()
    carol.send(ev.Read(created.group, ts))
    alice.expect_next(ev.ReadNotice(created.group, ts))
    alice.assert_silent()


def test_group_read_notice_per_author(client_factory: ClientFactory) -> None:
    """A group 08 is counted per author: each author gets the 09 for its own messages."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    created = create(alice, bob, carol)
    ts = timestamp()
    for author, others in ((alice, (bob, carol)), (bob, (alice, carol))):
        author.send(ev.Send(author.user, created.group, ts, f"from {author.name}"))
        author.expect(ev.Accepted(created.group, ts))
        for other in others:
            other.expect(ev.Deliver(author.user, created.group, ts, f"from {author.name}"))
            other.send(ev.Receipt(author.user, created.group, ts))
    alice.expect(ev.Delivered(created.group, ts))
    bob.expect(ev.Delivered(created.group, ts))
    carol.send(ev.Read(created.group, ts))
    bob.send(ev.Read(created.group, ts))  # bob read alice's message: alice is now read by all
    alice.expect(ev.ReadNotice(created.group, ts))
    alice.send(ev.Read(created.group, ts))  # alice read bob's message: bob is now read by all
    bob.expect(ev.ReadNotice(created.group, ts))


def test_group_send_not_member_refused(client_factory: ClientFactory) -> None:
    """A 05 to a group you are not in gets 13/07 and is delivered to nobody."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    eve = client_factory.registered()
    created = create(alice, bob)
    bob.expect_next(created)
    eve.send(ev.Send(eve.user, created.group, timestamp(), "let me in"))
    eve.expect_error(ErrorCode.NOT_A_MEMBER)
    alice.assert_silent()
    bob.assert_silent()
