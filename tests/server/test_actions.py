"""End to end: 31 (act) -> 16 to its author, 32 to the chat's others, 12 -> 07; every refusal
(PROTOCOL.md 5.11), on SQLite and on PostgreSQL."""

from dataclasses import astuple

import pytest
from wire import ClientFactory, ServerProcess, WireClient, timestamp

from interzap_server.storage import open_store
from server.test_groups import create
from shared import events as ev
from shared.codes import DELETE_WINDOW, EDIT_WINDOW, TOMBSTONE, ActKind, ErrorCode

WEEK_AND_A_DAY = 8 * 24 * 3600


def said(sender: WireClient, recipient: WireClient, ts: int, text: str) -> None:
    """sender's 05 to recipient, answered 16."""
    sender.send(ev.Send(sender.user, recipient.user, ts, text))
    sender.expect_next(ev.Accepted(recipient.user, ts))


def acted(sender: WireClient, dst: str, ts: int, kind: ActKind, ref: tuple[str, int],
          text: str = "") -> ev.Act:
    """sender's 31 in the chat dst, answered 16; the 31 itself."""
    event = ev.Act(sender.user, dst, ts, kind, ref[0], ref[1], text)
    sender.send(event)
    sender.expect(ev.Accepted(dst, ts))
    return event


def refused(sender: WireClient, dst: str, kind: ActKind, ref: tuple[str, int], text: str,
            code: int) -> None:
    """sender's 31 is answered with 13/code and nothing else."""
    sender.send(ev.Act(sender.user, dst, timestamp(5), kind, ref[0], ref[1], text))
    error = sender.expect_error(code)
    assert error.reason
    sender.assert_silent()


def pair(client_factory: ClientFactory) -> tuple[WireClient, WireClient, int]:
    """Alice and Bob, Alice's message to Bob delivered and acknowledged; its ts."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    said(alice, bob, ts, "lunch at noon?")
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "lunch at noon?"))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    return alice, bob, ts


@pytest.mark.parametrize(("kind", "text"), [
    pytest.param(ActKind.REPLY, "yes!", id="reply"),
    pytest.param(ActKind.REACT, "\U0001f44d", id="react"),
    pytest.param(ActKind.REACT, "", id="unreact"),
])
def test_act_reaches_the_other_and_ticks_come_back(client_factory: ClientFactory,
                                                   kind: ActKind, text: str) -> None:
    """Bob's 31 about Alice's message: 16 to Bob, the same fields as a 32 to Alice, her 12 of
    the 31's own key gives Bob a 07 of it."""
    alice, bob, ts = pair(client_factory)
    event = acted(bob, alice.user, ts + 1, kind, (alice.user, ts), text)
    alice.expect_next(ev.Acted(bob.user, alice.user, ts + 1, kind, alice.user, ts, text))
    alice.send(ev.Receipt(bob.user, alice.user, event.ts))
    bob.expect_next(ev.Delivered(alice.user, ts + 1))


@pytest.mark.parametrize("kind", [ActKind.EDIT, ActKind.DELETE])
def test_act_author_edits_and_deletes(client_factory: ClientFactory, kind: ActKind) -> None:
    """The author's edit (a new text) or deletion (no text) reaches the recipient as a 32."""
    alice, bob, ts = pair(client_factory)
    text = "lunch at one?" if kind is ActKind.EDIT else ""
    acted(alice, bob.user, ts + 1, kind, (alice.user, ts), text)
    bob.expect_next(ev.Acted(alice.user, bob.user, ts + 1, kind, alice.user, ts, text))


def test_act_retransmitted_is_answered_and_delivered_once(client_factory: ClientFactory) -> None:
    """The same 31 again (its key known) is answered 16 again and queued once, as a 05."""
    alice, bob, ts = pair(client_factory)
    event = acted(bob, alice.user, ts + 1, ActKind.REACT, (alice.user, ts), "\u2764\ufe0f")
    bob.send(event)
    bob.expect_next(ev.Accepted(alice.user, ts + 1))
    alice.expect_next(ev.Acted(*astuple(event)))
    alice.assert_silent()


def test_act_in_a_group_reaches_every_other_member(client_factory: ClientFactory) -> None:
    """A reaction in a group goes to each other member; the 07 after all their 12s."""
    alice, bob, carol = (client_factory.registered() for _ in range(3))
    group = create(alice, bob, carol).group
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "pizza?"))
    alice.expect(ev.Accepted(group, ts))
    for member in (bob, carol):
        member.expect(ev.Deliver(alice.user, group, ts, "pizza?"))
    acted(bob, group, ts + 1, ActKind.REACT, (alice.user, ts), "\U0001f355")
    for member in (alice, carol):
        member.expect(ev.Acted(bob.user, group, ts + 1, "X", alice.user, ts, "\U0001f355"))
        member.send(ev.Receipt(bob.user, group, ts + 1))
    bob.expect(ev.Delivered(group, ts + 1))


def test_act_refusals_in_a_chat(client_factory: ClientFactory) -> None:
    """Every refusal of a 31 in a 1:1 chat, each with its own code and a reason."""
    alice, bob, ts = pair(client_factory)
    carol = client_factory.registered()
    ref = (alice.user, ts)
    refused(bob, alice.user, ActKind.EDIT, ref, "mine now", ErrorCode.NOT_AUTHOR)
    refused(bob, alice.user, ActKind.DELETE, ref, "", ErrorCode.NOT_AUTHOR)
    refused(bob, alice.user, ActKind.REACT, ref, "ok", ErrorCode.INVALID_REACTION)
    refused(bob, alice.user, ActKind.REACT, ref, "\U0001f44d\U0001f44d",
            ErrorCode.INVALID_REACTION)
    refused(bob, alice.user, ActKind.REPLY, (alice.user, ts - 60), "what?",
            ErrorCode.UNKNOWN_MESSAGE)
    refused(bob, alice.user, ActKind.REPLY, (carol.user, ts), "what?", ErrorCode.UNKNOWN_MESSAGE)
    refused(carol, alice.user, ActKind.REACT, ref, "\U0001f44d", ErrorCode.UNKNOWN_MESSAGE)
    refused(bob, alice.user, ActKind.REPLY, ref, "", ErrorCode.INVALID_TEXT)
    refused(alice, bob.user, ActKind.DELETE, ref, "gone", ErrorCode.INVALID_TEXT)
    refused(alice, "Client-999999", ActKind.REACT, ref, "", ErrorCode.UNKNOWN_PEER)
    bob.send(ev.Act(alice.user, bob.user, timestamp(9), "R", alice.user, ts, "as you"))
    bob.expect_error(ErrorCode.NOT_YOU)
    alice.assert_silent()


def test_act_refusals_of_time(client_factory: ClientFactory) -> None:
    """Editing after 15 minutes, deleting after 48 hours (counted from the ts, which is
    earlier than the server's own time here): 13/30; an edit of a message it does not know,
    within the window: 13/31."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    old, older = timestamp(-EDIT_WINDOW - 60), timestamp(-DELETE_WINDOW - 60)
    said(alice, bob, older, "very old")
    said(alice, bob, old, "old")
    refused(alice, bob.user, ActKind.EDIT, (alice.user, old), "new", ErrorCode.TOO_LATE)
    refused(alice, bob.user, ActKind.DELETE, (alice.user, older), "", ErrorCode.TOO_LATE)
    acted(alice, bob.user, timestamp(1), ActKind.DELETE, (alice.user, old))
    refused(alice, bob.user, ActKind.EDIT, (alice.user, timestamp(-60)), "x",
            ErrorCode.UNKNOWN_MESSAGE)


def test_act_beyond_key_memory(client_factory: ClientFactory) -> None:
    """A reply or reaction to a ts older than the key memory is let through (the server can no
    longer tell); an edit or deletion of it is too late."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ancient = timestamp(-WEEK_AND_A_DAY)
    acted(bob, alice.user, timestamp(), ActKind.REACT, (alice.user, ancient), "\U0001f44d")
    alice.expect_next(ev.Acted(bob.user, alice.user, timestamp(), "X", alice.user, ancient,
                               "\U0001f44d"))
    refused(alice, bob.user, ActKind.EDIT, (alice.user, ancient), "x", ErrorCode.TOO_LATE)


def test_act_group_outsider_refused(client_factory: ClientFactory) -> None:
    """Only members react in a group (13/07); a message of the group they do not know: 13/31."""
    alice, bob, carol = (client_factory.registered() for _ in range(3))
    group = create(alice, bob).group
    ts = timestamp()
    alice.send(ev.Send(alice.user, group, ts, "members only"))
    alice.expect(ev.Accepted(group, ts))
    bob.expect(ev.Deliver(alice.user, group, ts, "members only"))
    bob.sync()
    refused(carol, group, ActKind.REACT, (alice.user, ts), "\U0001f44d", ErrorCode.NOT_A_MEMBER)
    refused(bob, group, ActKind.REACT, (bob.user, ts), "\U0001f44d", ErrorCode.UNKNOWN_MESSAGE)


def test_act_deletion_erases_the_queued_text(client_factory: ClientFactory,
                                             server: ServerProcess) -> None:
    """Deleting a message Bob has not received yet leaves its text nowhere in the queue: at
    his login he gets the 06 with the tombstone text, the author's queued edit of it likewise,
    then the deletion (so the 07 still comes)."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    ts = timestamp()
    said(alice, bob, ts, "secret plan")
    acted(alice, bob.user, ts + 1, ActKind.EDIT, (alice.user, ts), "secret plan B")
    acted(alice, bob.user, ts + 2, ActKind.DELETE, (alice.user, ts))
    # the store's own API, as committed; a reader, not a server beside the server
    store = open_store(str(server.db), shared=True, server=False)
    try:
        frames = [queued.frame for queued in store.queue.read(bob.user, 0, 100)]
    finally:
        store.close()
    assert frames and not any(b"secret" in frame for frame in frames)
    again = client_factory.logged_in(*bob.credentials())
    again.expect_next(ev.Deliver(alice.user, bob.user, ts, TOMBSTONE))
    again.expect_next(ev.Acted(alice.user, bob.user, ts + 1, "E", alice.user, ts, TOMBSTONE))
    again.expect_next(ev.Acted(alice.user, bob.user, ts + 2, "D", alice.user, ts, ""))
    again.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect(ev.Delivered(bob.user, ts))


def test_act_reaches_an_offline_member_until_acknowledged(client_factory: ClientFactory) -> None:
    """A 32 is queued for an offline recipient, and comes again at each login until its 12."""
    alice, bob, ts = pair(client_factory)
    alice.leave()
    acted(bob, alice.user, ts + 1, ActKind.REPLY, (alice.user, ts), "sure")
    expected = ev.Acted(bob.user, alice.user, ts + 1, "R", alice.user, ts, "sure")
    first = client_factory.logged_in(*alice.credentials())
    first.expect_next(expected)
    first.leave()
    second = client_factory.logged_in(*alice.credentials())
    second.expect_next(expected)
    second.send(ev.Receipt(bob.user, alice.user, ts + 1))
    bob.expect(ev.Delivered(alice.user, ts + 1))
    second.leave()
    third = client_factory.logged_in(*alice.credentials())
    third.assert_silent()
