"""End to end: one-to-one messages online: 05 -> 16 -> 06 -> 12 -> 07, keys, text, refusals."""

import pytest
from wire import ClientFactory, timestamp

from shared import events as ev
from shared.codes import ErrorCode


def test_message_online_full_cycle(client_factory: ClientFactory) -> None:
    """05 is answered with 16, delivered as 06; the recipient's 12 brings the author a 07."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "hello bob"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "hello bob"))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    alice.assert_silent()
    bob.assert_silent()


def test_message_delivered_waits_for_receipt(client_factory: ClientFactory) -> None:
    """No 07 reaches the author before the recipient's 12 for that key."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "hello"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "hello"))
    alice.assert_silent()


def test_message_order_kept(client_factory: ClientFactory) -> None:
    """Messages sent in one write are accepted and delivered in the order sent."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    base = timestamp()
    alice.send(*(ev.Send(alice.user, bob.user, base + i, f"message {i}") for i in range(10)))
    for i in range(10):
        alice.expect_next(ev.Accepted(bob.user, base + i))
    for i in range(10):
        bob.expect_next(ev.Deliver(alice.user, bob.user, base + i, f"message {i}"))


def test_message_unknown_recipient_refused(client_factory: ClientFactory) -> None:
    """A 05 to a user that does not exist gets 13/05 and no 16."""
    alice = client_factory.registered()
    alice.send(ev.Send(alice.user, "Client-999999", timestamp(), "anyone?"))
    alice.expect_error(ErrorCode.UNKNOWN_PEER)
    alice.assert_silent()


def test_message_unknown_group_refused(client_factory: ClientFactory) -> None:
    """A 05 to a group that does not exist gets 13/05 and no 16."""
    alice = client_factory.registered()
    alice.send(ev.Send(alice.user, "Group-9999999", timestamp(), "anyone?"))
    alice.expect_error(ErrorCode.UNKNOWN_PEER)
    alice.assert_silent()


def test_message_spoofed_src_refused(client_factory: ClientFactory) -> None:
    """A 05 whose src is not the logged-in id gets 13/06 and is not delivered."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(bob.user, carol.user, ts, "I am bob"))
    alice.expect_error(ErrorCode.NOT_YOU)
    alice.assert_silent()
    carol.assert_silent()


@pytest.mark.parametrize("text", [
    pytest.param(b"", id="empty"),
    pytest.param(b"x" * 219, id="219-characters"),
    pytest.param("é".encode() * 219, id="219-two-byte-characters"),
    pytest.param(b"bell\x07", id="control-c0"),
    pytest.param(b"tab\there", id="control-tab"),
    pytest.param(b"del\x7f", id="control-del"),
    pytest.param("next\u0085line".encode(), id="control-c1"),
])
def test_message_invalid_text_refused(client_factory: ClientFactory, text: bytes) -> None:
    """Text that is empty, over 218 code points or holds a control character gets 13/09."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    head = f"05{alice.user}{bob.user}{timestamp():010d}".encode()
    alice.send_raw(head + text + b"\n")
    alice.expect_error(ErrorCode.INVALID_TEXT)
    alice.assert_silent()
    bob.assert_silent()


@pytest.mark.parametrize("text", [
    pytest.param("x" * 218, id="218-ascii"),
    pytest.param("🙂" * 218, id="218-four-byte"),
    pytest.param("👩\u200d💻 zero width joiner", id="format-character"),
    pytest.param("«ünïcödé» ✓", id="accents"),
])
def test_message_valid_text_delivered_intact(client_factory: ClientFactory, text: str) -> None:
    """Any 1..218 code points without a control character arrive byte for byte."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, text))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, text))


def test_message_retransmission_answered_again(client_factory: ClientFactory) -> None:
    """A 05 whose key was already accepted is answered with 16 again."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    message = ev.Send(alice.user, bob.user, ts, "once")
    alice.send(message)
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.send(message)
    alice.expect_next(ev.Accepted(bob.user, ts))


def test_message_retransmission_not_delivered_twice(client_factory: ClientFactory) -> None:
    """A retransmitted key is delivered no second time, even after the 12."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    message = ev.Send(alice.user, bob.user, ts, "once")
    alice.send(message)
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "once"))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    alice.send(message)
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.send(ev.Send(alice.user, bob.user, ts + 1, "next"))
    alice.expect_next(ev.Accepted(bob.user, ts + 1))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts + 1, "next"))


def test_message_retransmission_with_other_text_ignored(client_factory: ClientFactory) -> None:
    """The key alone identifies a message: the same key with another text is a retransmission."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "first"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "first"))
    alice.send(ev.Send(alice.user, bob.user, ts, "second"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.send(ev.Send(alice.user, bob.user, ts + 1, "barrier"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts + 1, "barrier"))


def test_message_deliver_not_repeated_on_connection(client_factory: ClientFactory) -> None:
    """An unacknowledged 06 is not sent again on the same connection."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    first = ev.Send(alice.user, bob.user, ts, "first")
    alice.send(first)
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "first"))
    alice.send(ev.Send(alice.user, bob.user, ts + 1, "second"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts + 1, "second"))
    alice.send(first)  # a retransmission must not wake the old entry up either
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.expect_next(ev.Accepted(bob.user, ts + 1))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.assert_silent()


def test_message_older_ts_is_new_message(client_factory: ClientFactory) -> None:
    """A 05 with a new key is a new message whatever its ts, delivered in accepted order."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "now"))
    alice.send(ev.Send(alice.user, bob.user, ts - 60, "a minute ago"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "now"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts - 60, "a minute ago"))


def test_message_same_ts_other_recipient_is_new(client_factory: ClientFactory) -> None:
    """The key includes dst: the same ts to another recipient is another message."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "to bob"),
               ev.Send(alice.user, carol.user, ts, "to carol"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "to bob"))
    carol.expect_next(ev.Deliver(alice.user, carol.user, ts, "to carol"))


def test_receipt_unknown_key_ignored(client_factory: ClientFactory) -> None:
    """A 12 for a key never delivered to this user is ignored: no answer, no 07 anywhere."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "for bob only"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    carol.send(ev.Receipt(alice.user, bob.user, ts))  # carol is not the recipient
    carol.send(ev.Receipt(alice.user, carol.user, ts))  # no such message
    carol.assert_silent()
    alice.assert_silent()


def test_receipt_repeated_ignored(client_factory: ClientFactory) -> None:
    """A second 12 for an already acknowledged key brings no second 07."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "hi"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "hi"))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    bob.assert_silent()
    alice.assert_silent()

