"""End to end: a message of several lines, U+2028 between them (PROTOCOL.md, "Text").

The server knows nothing of lines: U+2028 (and U+2029) are characters like any
other that is not a control character, counted as one code point each, stored
and delivered byte for byte; CR and LF stay refused. On both backends.
"""

import pytest
from wire import ClientFactory, timestamp

from shared import events as ev
from shared.codec import encode
from shared.codes import MAX_TEXT, ErrorCode

LS, PS = "\u2028", "\u2029"
TWO_LINES = f"first line{LS}second line"


def test_line_separator_delivered_byte_for_byte(client_factory: ClientFactory) -> None:
    """The 05's bytes E2 80 A8 come out of the 06 unchanged, online."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send_raw(f"05{alice.user}{bob.user}{ts:010d}".encode()
                   + b"first line\xe2\x80\xa8second line\n")
    alice.expect_next(ev.Accepted(bob.user, ts))
    deliver = bob.expect_next(ev.Deliver(alice.user, bob.user, ts, TWO_LINES))
    assert b"first line\xe2\x80\xa8second line\n" in encode(deliver)


def test_line_separator_kept_in_the_offline_queue(client_factory: ClientFactory) -> None:
    """Stored in the queue of an offline recipient (the database's text column), intact."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    ts = timestamp()
    text = f"{LS}starts and ends with a break, a paragraph{PS}too{LS}"
    alice.send(ev.Send(alice.user, bob.user, ts, text))
    alice.expect_next(ev.Accepted(bob.user, ts))
    again = client_factory.logged_in(*bob.credentials())
    again.expect_next(ev.Deliver(alice.user, bob.user, ts, text))


@pytest.mark.parametrize(("text", "accepted"), [
    pytest.param(LS * MAX_TEXT, True, id="218-breaks"),
    pytest.param(("ab" + LS) * 72 + "ab", True, id="218-with-breaks"),
    pytest.param(("ab" + LS) * 73, False, id="219-with-breaks"),
    pytest.param("line\rline", False, id="cr"),
    pytest.param("line\r\u2028line", False, id="cr-before-a-break"),
])
def test_line_separator_counts_one_code_point(client_factory: ClientFactory, text: str,
                                              accepted: bool) -> None:
    """A break is one of the 218 code points (three bytes); a CR is still refused (13/09)."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send_raw(f"05{alice.user}{bob.user}{ts:010d}{text}\n".encode())
    if accepted:
        alice.expect_next(ev.Accepted(bob.user, ts))
        bob.expect_next(ev.Deliver(alice.user, bob.user, ts, text))
    else:
        alice.expect_error(ErrorCode.INVALID_TEXT)
        bob.assert_silent()
