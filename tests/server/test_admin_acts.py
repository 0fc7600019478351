"""End to end, where group admin (23/24) meets acts (31/32): someone removed from a group, or
who left it, can no longer reply or react there (13/07) and gets none of its later acts;
on SQLite and on PostgreSQL."""

from dataclasses import astuple

import pytest
from wire import ClientFactory, timestamp

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
