"""End to end: framing on a real socket: CR LF, splits, joins, over-long and malformed frames."""

import pytest
from wire import ClientFactory, ServerProcess, WireClient, timestamp

from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

LIMIT = 1024


def message_bytes(sender: WireClient, recipient: WireClient, ts: int, text: str) -> bytes:
    return encode(ev.Send(sender.user, recipient.user, ts, text))


def test_frame_crlf_accepted(client_factory: ClientFactory) -> None:
    """A CR just before the LF is dropped: `14\\r\\n` is a ping."""
    client = client_factory.registered()
    client.send_raw(b"14\r\n")
    client.expect_next(ev.Pong())


def test_frame_crlf_not_part_of_text(client_factory: ClientFactory) -> None:
    """A 05 ending in CR LF is delivered without the CR."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send_raw(message_bytes(alice, bob, ts, "over telnet")[:-1] + b"\r\n")
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "over telnet"))


def test_frame_many_in_one_write(client_factory: ClientFactory) -> None:
    """Several frames in one write are each handled, in order."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send_raw(b"14\n" + message_bytes(alice, bob, ts, "between pings") + b"14\r\n")
    alice.expect_next(ev.Pong())
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.expect_next(ev.Pong())


def test_frame_split_byte_by_byte(client_factory: ClientFactory) -> None:
    """A frame sent one byte per write is reassembled, multi-byte characters included."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    text = "é🙂 split everywhere"
    data = message_bytes(alice, bob, ts, text)
    alice.send_pieces(data[i:i + 1] for i in range(len(data)))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, text))


def test_frame_split_inside_character(client_factory: ClientFactory) -> None:
    """A UTF-8 character cut between two writes arrives whole."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    data = message_bytes(alice, bob, ts, "🙂")
    cut = data.index("🙂".encode()) + 2
    alice.send_pieces([data[:cut], data[cut:]])
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "🙂"))


def test_frame_too_long_one_error(client_factory: ClientFactory) -> None:
    """1025 bytes without an LF get exactly one 13/02, and the connection stays usable."""
    client = client_factory.registered()
    client.send_raw(b"14" + b"x" * (LIMIT - 1) + b"\n")
    client.expect_error(ErrorCode.TOO_LONG)
    client.assert_silent()


def test_frame_too_long_in_pieces(client_factory: ClientFactory) -> None:
    """A long line sent in many writes gets one 13/02; the next line is read normally."""
    client = client_factory.registered()
    client.send_pieces([b"05" + b"y" * 700, b"z" * 700, b"w" * 5000, b"end\n"])
    client.expect_error(ErrorCode.TOO_LONG)
    client.assert_silent()


def test_frame_too_long_then_frame_in_same_write(client_factory: ClientFactory) -> None:
    """The frame after an over-long line's LF, in the same write, is handled."""
    client = client_factory.registered()
    client.send_raw(b"q" * 3000 + b"\n14\n")
    client.expect_error(ErrorCode.TOO_LONG)
    client.expect_next(ev.Pong())


def test_frame_too_long_before_login(client_factory: ClientFactory) -> None:
    """The frame limit holds before login too, and the connection can still register."""
    client = client_factory.connect()
    client.send_raw(b"01" + b"x" * LIMIT + b"\n")
    client.expect_error(ErrorCode.TOO_LONG)
    client.register()


def test_frame_at_limit_not_too_long(client_factory: ClientFactory) -> None:
    """A 1024-byte line is within the limit: judged on its content (13/01), not 13/02."""
    client = client_factory.registered()
    client.send_raw(b"99" + b"x" * (LIMIT - 2) + b"\n")
    client.expect_error(ErrorCode.MALFORMED)
    client.assert_silent()


def test_frame_at_limit_with_crlf_not_too_long(client_factory: ClientFactory) -> None:
    """The CR of a CR LF does not count: 1024 bytes plus CR LF is within the limit."""
    client = client_factory.registered()
    client.send_raw(b"99" + b"x" * (LIMIT - 2) + b"\r\n")
    client.expect_error(ErrorCode.MALFORMED)
    client.assert_silent()


@pytest.mark.parametrize("line", [
    pytest.param(b"", id="empty-line"),
    pytest.param(b"7", id="one-digit"),
    pytest.param(b"ab", id="letters"),
    pytest.param(b"99", id="unknown-code"),
    pytest.param(b"17", id="unknown-code-17"),
    pytest.param(b"14x", id="ping-too-long"),
    pytest.param(b"08Client-000001", id="read-too-short"),
    pytest.param(b"08Client-00000112345678901", id="read-too-long"),
    pytest.param(b"08Client-0000011234567x90", id="ts-not-digits"),
    pytest.param(b"08client-0000011234567890", id="bad-id"),
    pytest.param(b"12Client-000001Client-00000", id="receipt-short"),
    pytest.param(b"10Client-0000011234567890Client-00000", id="members-cut"),
    pytest.param(b"1\r4", id="cr-inside"),
    pytest.param(b"14\xff", id="invalid-utf8"),
    pytest.param(b"\xc3", id="truncated-utf8"),
    pytest.param(b"00hello", id="server-only-00"),
    pytest.param(b"04Client-000001", id="server-only-04"),
    pytest.param(b"07Client-0000011234567890", id="server-only-07"),
    pytest.param(b"16Client-0000011234567890", id="server-only-16"),
])
def test_frame_malformed_refused(client_factory: ClientFactory, line: bytes) -> None:
    """Unknown code, wrong length, bad field, bad UTF-8 or a server-only code: 13/01."""
    client = client_factory.registered()
    client.send_raw(line + b"\n")
    client.expect_error(ErrorCode.MALFORMED)
    client.assert_silent()


def test_frame_invalid_utf8_in_text_refused(client_factory: ClientFactory) -> None:
    """A 05 whose text is not valid UTF-8 gets 13/01 and is not delivered."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    alice.send_raw(message_bytes(alice, bob, timestamp(), "x")[:-2] + b"\xe2\x82\n")
    alice.expect_error(ErrorCode.MALFORMED)
    alice.assert_silent()
    bob.assert_silent()


def test_frame_error_keeps_connection(client_factory: ClientFactory) -> None:
    """After a refused frame, the next frames of the same write are still handled."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send_raw(b"99\n" + message_bytes(alice, bob, ts, "after an error"))
    alice.expect_error(ErrorCode.MALFORMED)
    alice.expect_next(ev.Accepted(bob.user, ts))


@pytest.mark.parametrize("event", [
    pytest.param(ev.Send("Client-000001", "Client-000002", 1700000000, "hi"), id="send"),
    pytest.param(ev.Read("Client-000001", 1700000000), id="read"),
    pytest.param(ev.CreateGroup("Client-000001", 1700000000, ("Client-000002",)), id="group"),
    pytest.param(ev.Receipt("Client-000001", "Client-000002", 1700000000), id="receipt"),
])
def test_frame_before_login_refused(server: ServerProcess, client_factory: ClientFactory,
                                    event: ev.Event) -> None:
    """Before login every frame but 01, 03 and 14 gets 13/03; the connection stays usable."""
    client_factory.registered()
    client_factory.registered()
    client = client_factory.connect()
    client.send(event)
    client.expect_error(ErrorCode.NOT_LOGGED_IN)
    client.register()


def test_pong_ignored_before_login(client_factory: ClientFactory) -> None:
    """A 15 from a client that is not logged in is ignored, not refused."""
    client = client_factory.connect()
    client.send(ev.Pong())
    client.assert_silent()


def test_pong_ignored_after_login(client_factory: ClientFactory) -> None:
    """A 15 from a logged-in client is ignored."""
    client = client_factory.registered()
    client.send(ev.Pong(), ev.Pong())
    client.assert_silent()
