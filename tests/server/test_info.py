"""End to end: 25 "who got and read my group message" -> 26, answered from the queue, the
read marks and the group receipts; its refusals (13/27, 13/07, 13/05)."""

from wire import ClientFactory, WireClient, timestamp

from server.test_groups import create
from shared import events as ev
from shared.codes import ErrorCode, GroupOp


def group_of(client_factory: ClientFactory, size: int) -> tuple[str, list[WireClient]]:
    """A group of `size` new users, made by the first; each member has had its 11."""
    people = [client_factory.registered() for _ in range(size)]
    group = create(*people).group
    for member in people[1:]:
        member.expect_next(ev.GroupCreated)
    return group, people


def info(author: WireClient, group: str, ts: int) -> ev.InfoAnswer:
    author.send(ev.Info(group, ts))
    answer = author.expect(ev.InfoAnswer)  # a 07 or 09 may come first
    assert isinstance(answer, ev.InfoAnswer)
    return answer


def test_info_follows_delivery_and_reading(client_factory: ClientFactory) -> None:
    """Per other member: nothing before their 12, a delivered time after it, a read time
    after their 08; the author is not listed."""
    group, (alice, bob, carol) = group_of(client_factory, 3)
    before = timestamp()
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "hello all"))
    alice.expect_next(ev.Accepted(group, ts))
    bob.expect_next(ev.Deliver(alice.user, group, ts, "hello all"))
    carol.expect_next(ev.Deliver(alice.user, group, ts, "hello all"))
    assert info(alice, group, ts).states == ((bob.user, 0, 0), (carol.user, 0, 0))

    bob.send(ev.Receipt(alice.user, group, ts))
    bob.sync()
    [(who, delivered, read), carol_state] = info(alice, group, ts).states
    assert who == bob.user and delivered >= before and read == 0
    assert carol_state == (carol.user, 0, 0)

    bob.send(ev.Read(group, ts))
    carol.send(ev.Receipt(alice.user, group, ts))
    bob.sync()
    carol.sync()
    answer = info(alice, group, ts)
    assert answer.group == group and answer.ts == ts
    (_, bob_got, bob_read), (_, carol_got, carol_read) = answer.states
    assert bob_got == delivered and bob_read >= bob_got
    assert carol_got >= before and carol_read == 0


def test_info_refusals(client_factory: ClientFactory) -> None:
    """Someone else's message or a ts never sent: 13/27; a group you are not in: 13/07;
    no such group: 13/05. Nothing else comes."""
    group, (alice, bob) = group_of(client_factory, 2)
    mallory = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "mine"))
    alice.expect_next(ev.Accepted(group, ts))
    bob.expect_next(ev.Deliver(alice.user, group, ts, "mine"))
    bob.send(ev.Info(group, ts))
    bob.expect_error(ErrorCode.NOT_YOUR_MESSAGE)
    alice.send(ev.Info(group, ts + 1))
    alice.expect_error(ErrorCode.NOT_YOUR_MESSAGE)
    mallory.send(ev.Info(group, ts))
    mallory.expect_error(ErrorCode.NOT_A_MEMBER)
    alice.send(ev.Info("Group-9999999", ts))
    alice.expect_error(ErrorCode.UNKNOWN_PEER)
    alice.send_raw(b"25Client-0000011700000000\n")  # info is for group messages only
    alice.expect_error(ErrorCode.MALFORMED)
    alice.assert_silent()


def test_info_asked_twice_is_answered_twice(client_factory: ClientFactory) -> None:
    """25 changes nothing: a retransmission after a reconnect gets the same 26."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    group = create(alice, bob).group
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "once"))
    alice.expect_next(ev.Accepted(group, ts))
    first = info(alice, group, ts)
    again = client_factory.logged_in(*alice.credentials())
    assert info(again, group, ts) == first


def test_info_counts_the_members_at_the_message(client_factory: ClientFactory) -> None:
    """A member added after the message never had it: not listed (they were listed as
    delivered); those who were there and have not acknowledged it stay listed as not
    delivered, and a message sent after the addition lists the new member; someone who
    has left is not listed."""
    group, (alice, bob, carol) = group_of(client_factory, 3)
    dave, erin = client_factory.registered(), client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "before dave"))
    alice.expect_next(ev.Accepted(group, ts))
    bob.expect_next(ev.Deliver(alice.user, group, ts, "before dave"))
    alice.send(ev.GroupChange(group, ts, GroupOp.ADD, dave.user))
    alice.expect(ev.GroupEvent)
    assert info(alice, group, ts).states == ((bob.user, 0, 0), (carol.user, 0, 0))
    later = ts + 1
    alice.send(ev.Send(alice.user, group, later, "after dave"))
    alice.expect_next(ev.Accepted(group, later))
    assert [who for who, _, _ in info(alice, group, later).states] == [
        bob.user, carol.user, dave.user]
    alice.send(ev.GroupChange(group, later, GroupOp.ADD, erin.user))
    alice.expect(ev.GroupEvent)
    assert [who for who, _, _ in info(alice, group, ts).states] == [bob.user, carol.user]
    carol.send(ev.GroupChange(group, later, GroupOp.LEAVE, ""))
    carol.expect(lambda e: isinstance(e, ev.GroupEvent) and e.op == GroupOp.LEAVE)
    assert [who for who, _, _ in info(alice, group, ts).states] == [bob.user]
