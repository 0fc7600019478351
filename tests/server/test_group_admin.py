"""End to end: group changes (23 -> 24): rename, add, remove, promote, demote, leave; who is
told, in order with the group's messages, offline and across a restart; every refusal."""

import itertools

import pytest
from wire import ClientFactory, ServerFactory, WireClient, timestamp

from server.test_blocks import block
from server.test_groups import create
from server.test_names import named
from shared import events as ev
from shared.codes import MAX_GROUP_MEMBERS, ErrorCode, GroupOp

TS = itertools.count(timestamp())
"""A fresh ts per 23: the same one again would be a retransmission of the first."""
N, A, R, P, D, L = (GroupOp.RENAME, GroupOp.ADD, GroupOp.REMOVE, GroupOp.PROMOTE,
                    GroupOp.DEMOTE, GroupOp.LEAVE)


def changed(actor: WireClient, group: str, op: GroupOp, arg: str = "",
            ts: int | None = None) -> ev.GroupEvent:
    """actor's 23, answered with its 24."""
    ts = next(TS) if ts is None else ts
    actor.send(ev.GroupChange(group, ts, op, arg))
    event = ev.GroupEvent(group, ts, actor.user, op, arg)
    actor.expect_next(event)
    return event


def refused(actor: WireClient, group: str, op: GroupOp, arg: str, code: int) -> None:
    actor.send(ev.GroupChange(group, next(TS), op, arg))
    actor.expect_error(code)


def trio(client_factory: ClientFactory) -> tuple[WireClient, WireClient, WireClient, str]:
    """Alice's group with Bob and Carol, every 11 read."""
    alice, bob, carol = (client_factory.registered() for _ in range(3))
    created = create(alice, bob, carol)
    bob.expect_next(created)
    carol.expect_next(created)
    return alice, bob, carol, created.group


def test_group_rename_told_to_every_member(client_factory: ClientFactory) -> None:
    """The creator is admin: a rename is answered and told to each other member."""
    alice, bob, carol, group = trio(client_factory)
    event = changed(alice, group, N, "book club")
    bob.expect_next(event)
    carol.expect_next(event)
    alice.assert_silent()


def test_group_change_retransmitted_changes_nothing(client_factory: ClientFactory) -> None:
    """The same (group, actor, ts) again is answered with the same 24 and told to no one,
    even a leave, after which the actor is no longer a member."""
    alice, bob, carol, group = trio(client_factory)
    ts = next(TS)
    event = changed(bob, group, L, ts=ts)
    alice.expect_next(event)
    carol.expect_next(event)
    bob.send(ev.GroupChange(group, ts, L, ""))
    bob.expect_next(event)
    alice.assert_silent()
    carol.assert_silent()


def test_group_add_brings_the_newcomer_the_group(client_factory: ClientFactory) -> None:
    """An added user gets an 11 of the members now, the name and admins (n, a), the names
    of the members, then the A everyone gets; the members get the newcomer's name."""
    alice, bob, carol, group = trio(client_factory)
    dave = client_factory.registered()
    named(dave, "Dave")
    named(alice, "Alice")
    bob.expect_next(ev.Name(alice.user, "Alice"))
    carol.expect_next(ev.Name(alice.user, "Alice"))
    first = changed(alice, group, N, "club")
    bob.expect_next(first)
    carol.expect_next(first)
    ts = next(TS)
    alice.send(ev.GroupChange(group, ts, A, dave.user))
    alice.expect_next(ev.Name(dave.user, "Dave"))
    event = alice.expect_next(ev.GroupEvent(group, ts, alice.user, A, dave.user))
    created = dave.expect_next(ev.GroupCreated)
    assert isinstance(created, ev.GroupCreated)
    assert created.group == group
    assert created.members == (alice.user, bob.user, carol.user, dave.user)
    dave.expect_next(ev.GroupEvent(group, created.ts, alice.user, GroupOp.NAMED, "club"))
    dave.expect_next(ev.GroupEvent(group, created.ts, alice.user, GroupOp.ADMIN, alice.user))
    dave.expect_next(ev.Name(alice.user, "Alice"))
    dave.expect_next(event)
    for member in (bob, carol):
        member.expect_next(ev.Name(dave.user, "Dave"))
        member.expect_next(event)
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "welcome"))
    alice.expect_next(ev.Accepted(group, ts))
    dave.expect_next(ev.Deliver(alice.user, group, ts, "welcome"))


def test_group_removed_member_gets_nothing_more(client_factory: ClientFactory) -> None:
    """A removed member is told, then gets no later 06 and cannot send (13/07); the
    others go on."""
    alice, bob, carol, group = trio(client_factory)
    event = changed(alice, group, R, carol.user)
    bob.expect_next(event)
    carol.expect_next(event)
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "without carol"))
    alice.expect_next(ev.Accepted(group, ts))
    bob.expect_next(ev.Deliver(alice.user, group, ts, "without carol"))
    carol.assert_silent()
    carol.send(ev.Send(carol.user, group, ts, "let me in"))
    carol.expect_error(ErrorCode.NOT_A_MEMBER)
    carol.send(ev.Read(group, ts))
    carol.expect_error(ErrorCode.NOT_A_MEMBER)


def test_group_promote_and_demote(client_factory: ClientFactory) -> None:
    """A promoted member may do what admins do; a demoted one may not (13/23)."""
    alice, bob, carol, group = trio(client_factory)
    refused(bob, group, N, "mine", ErrorCode.NOT_ADMIN)
    promoted = changed(alice, group, P, bob.user)
    carol.expect_next(promoted)
    bob.expect_next(promoted)
    renamed = changed(bob, group, N, "bob's")
    alice.expect_next(renamed)
    demoted = changed(alice, group, D, bob.user)
    bob.expect_next(demoted)
    refused(bob, group, N, "again", ErrorCode.NOT_ADMIN)


def test_group_last_admin_leaving_hands_over(client_factory: ClientFactory) -> None:
    """The last admin leaving makes the oldest member left an admin, told after the L."""
    alice, bob, carol, group = trio(client_factory)
    left = changed(alice, group, L)
    handed = ev.GroupEvent(group, left.ts, alice.user, P, bob.user)
    for member in (bob, carol):
        member.expect_next(left)
        member.expect_next(handed)
    alice.assert_silent()
    changed(bob, group, N, "bob runs it")
    refused(alice, group, L, "", ErrorCode.NOT_A_MEMBER)  # leaving twice


def test_group_an_admin_leaving_leaves_the_others(client_factory: ClientFactory) -> None:
    """An admin who is not the last one leaves without a handover."""
    alice, bob, carol, group = trio(client_factory)
    promoted = changed(alice, group, P, carol.user)
    bob.expect_next(promoted)
    carol.expect_next(promoted)
    left = changed(alice, group, L)
    bob.expect_next(left)
    carol.expect_next(left)
    bob.assert_silent()


@pytest.mark.parametrize(("actor", "op", "arg", "code"), [
    pytest.param("bob", R, "carol", ErrorCode.NOT_ADMIN, id="non-admin-remove"),
    pytest.param("bob", A, "stranger", ErrorCode.NOT_ADMIN, id="non-admin-add"),
    pytest.param("bob", P, "carol", ErrorCode.NOT_ADMIN, id="non-admin-promote"),
    pytest.param("alice", A, "Client-999999", ErrorCode.UNKNOWN_PEER, id="add-no-such-user"),
    pytest.param("alice", A, "bob", ErrorCode.WRONG_MEMBER, id="add-a-member"),
    pytest.param("alice", R, "stranger", ErrorCode.WRONG_MEMBER, id="remove-a-stranger"),
    pytest.param("alice", R, "alice", ErrorCode.WRONG_MEMBER, id="remove-yourself"),
    pytest.param("alice", P, "alice", ErrorCode.WRONG_MEMBER, id="promote-an-admin"),
    pytest.param("alice", D, "bob", ErrorCode.WRONG_MEMBER, id="demote-a-member"),
    pytest.param("alice", D, "alice", ErrorCode.NOT_PERMITTED, id="demote-the-last-admin"),
    pytest.param("alice", N, "x" * 33, ErrorCode.INVALID_NAME, id="name-too-long"),
    pytest.param("alice", N, "", ErrorCode.INVALID_NAME, id="name-empty"),
    pytest.param("alice", N, "Group-0000001", ErrorCode.INVALID_NAME, id="name-like-an-id"),
    pytest.param("stranger", L, "", ErrorCode.NOT_A_MEMBER, id="stranger-leaves"),
    pytest.param("alice", L, "x", ErrorCode.MALFORMED, id="leave-with-arg"),
    pytest.param("alice", A, "dave", ErrorCode.MALFORMED, id="add-not-an-id"),
    pytest.param("alice", GroupOp.ADMIN, "bob", ErrorCode.MALFORMED, id="server-only-op"),
])
def test_group_change_refused(client_factory: ClientFactory, actor: str, op: GroupOp,
                              arg: str, code: int) -> None:
    """Each refusal has its own 13 and changes nothing: nobody is told anything. People
    are named by role (their id is put in their place); any other arg goes as it is."""
    alice, bob, carol, group = trio(client_factory)
    people = {"alice": alice, "bob": bob, "carol": carol,
              "stranger": client_factory.registered()}
    refused(people[actor], group, op, people[arg].user if arg in people else arg, code)
    for member in people.values():
        member.assert_silent()


def test_group_name_with_a_control_character(client_factory: ClientFactory) -> None:
    """A rename holding a control character is refused like a 21's: 13/24."""
    alice, bob, _, group = trio(client_factory)
    alice.send_raw(f"23{group}{next(TS)}Na\u0085b\n".encode())
    alice.expect_error(ErrorCode.INVALID_NAME)
    bob.assert_silent()


def test_group_no_such_group(client_factory: ClientFactory) -> None:
    alice = client_factory.registered()
    refused(alice, "Group-0999999", L, "", ErrorCode.UNKNOWN_PEER)


def test_group_full_refuses_an_add(client_factory: ClientFactory) -> None:
    """A group of 9 people takes no tenth (13/25); after a leave it takes one."""
    alice, *members = (client_factory.registered() for _ in range(MAX_GROUP_MEMBERS + 1))
    tenth = client_factory.registered()
    created = create(alice, *members)
    group = created.group
    members[0].expect_next(created)
    refused(alice, group, A, tenth.user, ErrorCode.GROUP_FULL)
    changed(members[0], group, L)
    alice.expect_next(ev.GroupEvent)
    changed(alice, group, A, tenth.user)


def test_group_add_refused_by_a_block(client_factory: ClientFactory) -> None:
    """Someone who blocks the adder cannot be added by them (13/19), as for a 10."""
    alice, *_, group = trio(client_factory)
    dave = client_factory.registered()
    block(dave, alice)
    refused(alice, group, A, dave.user, ErrorCode.NOT_PERMITTED)
    dave.assert_silent()


def test_group_sequence_6_5(server_factory: ServerFactory,
                            client_factory: ClientFactory) -> None:
    """PROTOCOL.md 6.5 as written, Carol offline until the end, across a restart of the
    server: every change reaches her in order, after the state she was added into."""
    server = server_factory.start()
    alice, bob, carol = (client_factory.registered(server) for _ in range(3))
    carol_login = carol.credentials()
    carol.leave()
    created = create(alice, bob)
    bob.expect_next(created)
    group = created.group
    named(alice, "Alice")
    bob.expect_next(ev.Name(alice.user, "Alice"))
    renamed = changed(alice, group, N, "book club")
    bob.expect_next(renamed)
    added = changed(alice, group, A, carol.user)
    bob.expect_next(added)
    left = changed(alice, group, L)
    handed = ev.GroupEvent(group, left.ts, alice.user, P, bob.user)
    bob.expect_next(left)
    bob.expect_next(handed)
    server.kill()
    again = server_factory.start()
    carol = client_factory.logged_in(*carol_login, server=again)
    carol.expect_next(ev.GroupCreated(group, created.ts, (alice.user, bob.user, carol.user)))
    carol.expect_next(ev.GroupEvent(group, created.ts, alice.user, GroupOp.NAMED, "book club"))
    carol.expect_next(ev.GroupEvent(group, created.ts, alice.user, GroupOp.ADMIN, alice.user))
    carol.expect_next(ev.Name(alice.user, "Alice"))
    carol.expect_next(added)
    carol.expect_next(left)
    carol.expect_next(handed)
    carol.assert_silent()
