"""End to end, where group admin (23/24) meets acts (31/32): someone removed from a group, or
who left it, can no longer reply or react there (13/07) and gets none of its later acts;
on SQLite and on PostgreSQL."""

from dataclasses import astuple

import pytest
from wire import ClientFactory, WireClient, timestamp

from server.test_actions import acted, refused
from server.test_group_admin import changed, trio
from shared import events as ev
from shared.codes import ActKind, ErrorCode, GroupOp


@pytest.mark.parametrize("how", [GroupOp.REMOVE, GroupOp.LEAVE])
def test_acts_of_a_former_member(client_factory: ClientFactory, how: GroupOp) -> None:
    alice, bob, carol, group = trio(client_factory)
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "still friends?"))
    alice.expect_next(ev.Accepted(group, ts))
    for member in (bob, carol):
        member.expect_next(ev.Deliver(alice.user, group, ts, "still friends?"))
        member.send(ev.Receipt(alice.user, group, ts))
    alice.expect_next(ev.Delivered(group, ts))
    gone = (changed(alice, group, how, carol.user) if how == GroupOp.REMOVE
            else changed(carol, group, how))
    for member in (bob, carol) if how == GroupOp.REMOVE else (alice, bob):
        member.expect(gone)
    for kind, text in ((ActKind.REACT, "\U0001f44d"), (ActKind.REPLY, "me too")):
        refused(carol, group, kind, (alice.user, ts), text, ErrorCode.NOT_A_MEMBER)
    edit = acted(alice, group, timestamp(1), ActKind.EDIT, (alice.user, ts), "still?")
    bob.expect(ev.Acted(*astuple(edit)))
    bob.sync()
    carol.assert_silent()


def sent_and_stored(group: str, author: WireClient, *members: WireClient) -> int:
    """author's 05 to the group, every member's 12 of it, the 07 back: its ts."""
    ts = timestamp()
    author.send(ev.Send(author.user, group, ts, "read me"))
    author.expect_next(ev.Accepted(group, ts))
    for member in members:
        member.expect_next(ev.Deliver(author.user, group, ts, "read me"))
        member.send(ev.Receipt(author.user, group, ts))
    author.expect_next(ev.Delivered(group, ts))
    return ts


def test_read_tick_ignores_a_member_added_after_the_message(
        client_factory: ClientFactory) -> None:
    """The group's 09 comes when everyone who got the message read it: someone added since
    never had it and does not hold it back (it waited for them for ever)."""
    alice, bob, carol, group = trio(client_factory)
    dave = client_factory.registered()
    ts = sent_and_stored(group, alice, bob, carol)
    changed(alice, group, GroupOp.ADD, dave.user)
    bob.send(ev.Read(group, ts))
    carol.send(ev.Read(group, ts))
    alice.expect(ev.ReadNotice(group, ts))


@pytest.mark.parametrize("how", [GroupOp.REMOVE, GroupOp.LEAVE])
def test_read_tick_when_the_last_reader_goes(client_factory: ClientFactory,
                                             how: GroupOp) -> None:
    """Everyone but Carol read Alice's message; Carol removed (or gone): Alice hears her
    message was read by everyone left (09), since nobody else's read will tell her."""
    alice, bob, carol, group = trio(client_factory)
    ts = sent_and_stored(group, alice, bob, carol)
    bob.send(ev.Read(group, ts))
    bob.sync()
    alice.assert_silent()
    if how == GroupOp.REMOVE:
        changed(alice, group, how, carol.user)
    else:
        changed(carol, group, how)
    alice.expect(ev.ReadNotice(group, ts))


def test_acts_about_a_message_from_before_a_member_joined(
        client_factory: ClientFactory) -> None:
    """Dave, added after Alice's message, never had it: its edit (its new text), deletion
    and reactions are not sent to him; a reply is a new message and is."""
    alice, bob, carol, group = trio(client_factory)
    dave = client_factory.registered()
    ts = sent_and_stored(group, alice, bob, carol)
    added = changed(alice, group, GroupOp.ADD, dave.user)
    dave.expect_next(ev.GroupCreated)
    dave.expect_next(ev.GroupEvent)  # who the admins are
    dave.expect_next(added)
    for later, (kind, text) in enumerate(((ActKind.EDIT, "the secret plan, v2"),
                                          (ActKind.REACT, "\U0001f44d"), (ActKind.DELETE, "")),
                                         start=1):
        act = acted(alice, group, timestamp(later), kind, (alice.user, ts), text)
        bob.expect(ev.Acted(*astuple(act)))
    reply = acted(bob, group, timestamp(2), ActKind.REPLY, (alice.user, ts), "ok")
    assert dave.expect(ev.Acted) == ev.Acted(*astuple(reply))
    dave.assert_silent()
