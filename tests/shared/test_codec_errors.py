"""Tests of shared.codec refusing frames: decode() -> RemoteProtocolError with the code to
answer (PROTOCOL.md, "Error codes"), encode() -> LocalProtocolError for events we must not send
(and encode_decoded() for frames it cannot make).
"""

import pytest

from shared import codec
from shared import events as ev
from shared.codec import Side
from shared.codes import MAX_FRAME, MAX_TEXT, ErrorCode
from shared.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

A, B = b"Client-000001", b"Client-000002"
GROUP = b"Group-0000001"
TS = b"1700000000"
TOKEN = b"0123456789abcdef0123456789abcdef"
SEND = b"05" + A + B + TS  # a 05 up to its text
ARABIC_TS = "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660".encode()  # ١٧٠٠٠٠٠٠٠٠

MALFORMED = [
    # the code
    pytest.param(Side.CLIENT, b"", id="empty-line"),
    pytest.param(Side.CLIENT, b"1", id="one-digit-code"),
    pytest.param(Side.CLIENT, b"20", id="unknown-code-20"),
    pytest.param(Side.SERVER, b"99" + A, id="unknown-code-99"),
    pytest.param(Side.CLIENT, b"ab", id="letters-as-code"),
    pytest.param(Side.CLIENT, b" 1", id="space-in-code"),
    pytest.param(Side.CLIENT, b"+1", id="sign-in-code"),
    pytest.param(Side.CLIENT, "\u0660\u0661".encode(), id="non-ascii-digits-as-code"),
    pytest.param(Side.CLIENT, "\uff10\uff11".encode(), id="fullwidth-digits-as-code"),
    # who may send it
    pytest.param(Side.CLIENT, b"06" + A + B + TS + b"hi", id="server-only-06-from-client"),
    pytest.param(Side.CLIENT, b"02" + A + TOKEN, id="server-only-02-from-client"),
    pytest.param(Side.CLIENT, b"1301oops", id="server-only-13-from-client"),
    pytest.param(Side.CLIENT, b"16" + B + TS, id="server-only-16-from-client"),
    pytest.param(Side.CLIENT, b"00hello", id="server-only-00-from-client"),
    pytest.param(Side.SERVER, b"01", id="client-only-01-from-server"),
    pytest.param(Side.SERVER, SEND + b"hi", id="client-only-05-from-server"),
    # lengths of fixed layouts
    pytest.param(Side.CLIENT, b"01x", id="register-too-long"),
    pytest.param(Side.CLIENT, b"14 ", id="ping-too-long"),
    pytest.param(Side.SERVER, b"04" + A[:-1], id="logged-in-too-short"),
    pytest.param(Side.SERVER, b"04" + A + b"1", id="logged-in-too-long"),
    pytest.param(Side.CLIENT, b"03" + A + TOKEN[:-1], id="login-token-too-short"),
    pytest.param(Side.CLIENT, b"03" + A + TOKEN + b"0", id="login-too-long"),
    pytest.param(Side.CLIENT, b"03" + A, id="login-without-token"),
    pytest.param(Side.CLIENT, b"08" + GROUP + TS[:-1], id="read-ts-too-short"),
    pytest.param(Side.CLIENT, b"08" + GROUP + TS + b"0", id="read-too-long"),
    pytest.param(Side.SERVER, b"16" + B + TS + b" ", id="accepted-trailing-space"),
    pytest.param(Side.CLIENT, b"12" + A + B, id="receipt-without-ts"),
    pytest.param(Side.CLIENT, b"05" + A + B, id="send-without-ts"),
    pytest.param(Side.SERVER, b"131", id="error-code-one-digit"),
    # ids
    pytest.param(Side.SERVER, b"04client-000001", id="id-lowercase-prefix"),
    pytest.param(Side.SERVER, b"04Member-000001", id="id-wrong-prefix"),
    pytest.param(Side.SERVER, b"04Client_000001", id="id-wrong-separator"),
    pytest.param(Side.SERVER, b"04Client-00000a", id="id-letter-in-number"),
    pytest.param(Side.SERVER, b"04Client-00 001", id="id-space-in-number"),
    pytest.param(Side.SERVER, b"04Client-" + "\u0661".encode() * 6, id="id-non-ascii-digits"),
    pytest.param(Side.SERVER, b"04" + GROUP, id="group-id-as-user"),
    pytest.param(Side.CLIENT, b"05" + GROUP + B + TS + b"hi", id="group-id-as-sender"),
    pytest.param(Side.CLIENT, b"05" + A + b"Xlient-000002" + TS + b"hi", id="peer-not-an-id"),
    pytest.param(Side.CLIENT, b"10" + GROUP + TS + B, id="group-id-as-creator"),
    pytest.param(Side.CLIENT, b"10" + A + TS + B + GROUP, id="group-id-as-member"),
    pytest.param(Side.SERVER, b"11" + A + TS + A + B, id="user-id-as-group"),
    pytest.param(Side.CLIENT, b"03" + GROUP + TOKEN, id="group-id-logging-in"),
    # tokens
    pytest.param(Side.CLIENT, b"03" + A + TOKEN.upper(), id="token-uppercase-hex"),
    pytest.param(Side.CLIENT, b"03" + A + TOKEN[:-1] + b"g", id="token-not-hex"),
    pytest.param(Side.SERVER, b"02" + A + TOKEN[:-1], id="token-short"),
    pytest.param(Side.SERVER, b"02" + A + b" " + TOKEN[:-1], id="token-with-space"),
    # timestamps
    pytest.param(Side.CLIENT, b"08" + A + ARABIC_TS, id="ts-non-ascii-digits"),
    pytest.param(Side.CLIENT, b"08" + A + "\uff11".encode() * 10, id="ts-fullwidth-digits"),
    pytest.param(Side.CLIENT, b"08" + A + b"+700000000", id="ts-with-sign"),
    pytest.param(Side.CLIENT, b"08" + A + b"-000000001", id="ts-negative"),
    pytest.param(Side.CLIENT, b"08" + A + b" 700000000", id="ts-with-space"),
    pytest.param(Side.CLIENT, b"08" + A + b"17000000_0", id="ts-with-underscore"),
    pytest.param(Side.SERVER, b"13x1reason", id="error-code-not-digits"),
    # UTF-8
    pytest.param(Side.CLIENT, SEND + b"\xff", id="utf8-invalid-byte-in-text"),
    pytest.param(Side.CLIENT, SEND + b"caf\xc3", id="utf8-truncated-in-text"),
    pytest.param(Side.CLIENT, SEND + b"\xc0\xaf", id="utf8-overlong"),
    pytest.param(Side.CLIENT, SEND + b"\xed\xa0\x80", id="utf8-surrogate"),
    pytest.param(Side.CLIENT, SEND + b"\xf4\x90\x80\x80", id="utf8-beyond-u10ffff"),
    pytest.param(Side.CLIENT, b"\xff14", id="utf8-invalid-before-code"),
    pytest.param(Side.SERVER, b"00Interzap\x80", id="utf8-invalid-in-greeting"),
    # members
    pytest.param(Side.CLIENT, b"10" + A + TS + B[:-1], id="members-twelve-characters"),
    pytest.param(Side.CLIENT, b"10" + A + TS + B + b"C", id="members-fourteen-characters"),
    pytest.param(Side.SERVER, b"11" + GROUP + TS + A + B + B[:5], id="members-partial-id"),
    # 31: the kind letter
    pytest.param(Side.CLIENT, b"31" + A + B + TS + b"Q" + A + TS + b"hi", id="act-unknown-kind"),
    pytest.param(Side.CLIENT, b"31" + A + B + TS + b"r" + A + TS + b"hi", id="act-lowercase-kind"),
    pytest.param(Side.CLIENT, b"31" + A + B + TS + b"R" + GROUP + TS, id="act-ref-src-group"),
    pytest.param(Side.SERVER, b"31" + A + B + TS + b"D" + A + TS, id="act-from-server"),
    # free texts
    pytest.param(Side.SERVER, b"00Inter\x00zap", id="greeting-with-nul"),
    pytest.param(Side.SERVER, b"1301bad\rthing", id="error-reason-with-cr"),
    pytest.param(Side.SERVER, b"1301bad\nthing", id="error-reason-with-lf"),
]


@pytest.mark.parametrize(("sender", "line"), MALFORMED)
def test_codec_decode_refuses_malformed_frame(sender: Side, line: bytes) -> None:
    """A frame with a bad code, length, field, encoding or direction is 13/01 MALFORMED."""
    with pytest.raises(RemoteProtocolError) as caught:
        codec.decode(line, sender)
    assert caught.value.code is ErrorCode.MALFORMED
    assert caught.value.reason


INVALID_TEXT = [
    pytest.param(b"", id="empty"),
    pytest.param(b"a" * (MAX_TEXT + 1), id="219-ascii"),
    pytest.param("\u00e9".encode() * (MAX_TEXT + 1), id="219-two-byte"),
    pytest.param("\U0001f600".encode() * (MAX_TEXT + 1), id="219-four-byte"),
    pytest.param(b"a\x00b", id="nul"),
    pytest.param(b"a\x7f", id="del"),
    pytest.param("a\x85".encode(), id="c1-next-line"),
    pytest.param("\x9f".encode(), id="c1-last"),
    pytest.param(b"a\rb", id="cr-inside"),
    pytest.param(b"ab\r", id="cr-at-end"),
    pytest.param(b"a\nb", id="lf-inside"),
    pytest.param(b"tab\there", id="tab"),
    pytest.param(b"\x1b[31mred", id="escape"),
]


@pytest.mark.parametrize("text", INVALID_TEXT)
@pytest.mark.parametrize(("code", "sender"), [(b"05", Side.CLIENT), (b"06", Side.SERVER)])
def test_codec_decode_refuses_invalid_text(code: bytes, sender: Side, text: bytes) -> None:
    """A message text that is empty, over 218 code points or holds a Cc is 13/09."""
    line = code + A + B + TS + text
    assert len(line) <= MAX_FRAME
    with pytest.raises(RemoteProtocolError) as caught:
        codec.decode(line, sender)
    assert caught.value.code is ErrorCode.INVALID_TEXT


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"00" + b"x" * (MAX_FRAME - 1), id="1025-bytes"),
        pytest.param(SEND + b"x" * 5000, id="far-over"),
    ],
)
def test_codec_decode_refuses_frame_over_max_frame(line: bytes) -> None:
    """A line of more than MAX_FRAME bytes is 13/02 TOO_LONG, whatever it holds."""
    with pytest.raises(RemoteProtocolError) as caught:
        codec.decode(line, Side.CLIENT)
    assert caught.value.code is ErrorCode.TOO_LONG


def test_codec_decode_accepts_create_group_without_members() -> None:
    """A 10 without members decodes; refusing it (13/08) is the server's job."""
    assert codec.decode(b"10" + A + TS, Side.CLIENT) == ev.CreateGroup(
        A.decode(), 1700000000, ()
    )


def test_errors_remote_error_carries_code_and_reason() -> None:
    """RemoteProtocolError carries its code and reason and is a ProtocolError."""
    error = RemoteProtocolError(ErrorCode.NOT_YOU, "not you")
    assert isinstance(error, ProtocolError)
    assert (error.code, error.reason, str(error)) == (ErrorCode.NOT_YOU, "not you", "not you")
    assert issubclass(LocalProtocolError, ProtocolError)
    assert not issubclass(LocalProtocolError, RemoteProtocolError)


U1, U2, G1 = A.decode(), B.decode(), GROUP.decode()
HEX = TOKEN.decode()
UNENCODABLE = [
    pytest.param(ev.LoggedIn("Client-00001"), id="id-twelve-characters"),
    pytest.param(ev.LoggedIn("Client-0000011"), id="id-fourteen-characters"),
    pytest.param(ev.Delivered("", 1), id="id-empty"),
    pytest.param(ev.Delivered(None, 1), id="id-none"),  # type: ignore[arg-type]
    pytest.param(ev.Delivered(U2, -1), id="ts-negative"),
    pytest.param(ev.Delivered(U2, 10**10), id="ts-eleven-digits"),
    pytest.param(ev.Delivered(U2, "1700000000"), id="ts-str"),  # type: ignore[arg-type]
    pytest.param(ev.Delivered(U2, 1.5), id="ts-float"),  # type: ignore[arg-type]
    pytest.param(ev.Registered(U1, HEX[:-1]), id="token-short"),
    pytest.param(ev.Send(U1, U2, 1, ""), id="text-empty"),
    pytest.param(ev.Send(U1, U2, 1, "a" * (MAX_TEXT + 1)), id="text-219"),
    pytest.param(ev.Deliver(U1, U2, 1, "a\x00"), id="text-nul"),
    pytest.param(ev.Deliver(U1, U2, 1, "a\nb"), id="text-lf"),
    pytest.param(ev.Deliver(U1, U2, 1, "a\x85"), id="text-c1"),
    pytest.param(ev.CreateGroup(U1, 1, ("Client-00002",)), id="member-short"),
    pytest.param(ev.Error(100, "x"), id="error-code-three-digits"),
    pytest.param(ev.Error(-1, "x"), id="error-code-negative"),
    pytest.param(ev.Greeting("x" * (MAX_FRAME - 1)), id="frame-over-max"),
    # fields of the right width that the decoder would still refuse
    pytest.param(ev.Error(ErrorCode.MALFORMED, "two\nframes"), id="note-lf"),
    pytest.param(ev.Greeting("Interzap\r"), id="note-cr"),
    pytest.param(ev.LoggedIn("Client-00000\n"), id="id-lf"),
    pytest.param(ev.LoggedIn("client-000001"), id="id-wrong-prefix"),
    pytest.param(ev.Send(G1, U2, 1, "hi"), id="group-id-as-sender"),
    pytest.param(ev.GroupCreated(U1, 1, (U1, U2)), id="user-id-as-group"),
    pytest.param(ev.CreateGroup(U1, 1, (G1,)), id="group-id-as-member"),
    pytest.param(ev.Login(U1, HEX.upper()), id="token-uppercase"),
]


@pytest.mark.parametrize("event", UNENCODABLE)
def test_codec_encode_refuses_invalid_event(event: ev.Event) -> None:
    """An event whose fields the decoder would refuse is our bug: LocalProtocolError."""
    with pytest.raises(LocalProtocolError):
        codec.encode(event)


@pytest.mark.parametrize("thing", [pytest.param("14", id="str"), pytest.param(None, id="none")])
def test_codec_encode_refuses_non_event(thing: object) -> None:
    """encode() of something that is not a frame event raises LocalProtocolError."""
    with pytest.raises(LocalProtocolError):
        codec.encode(thing)  # type: ignore[arg-type]


@pytest.mark.parametrize("event", [ev.CreateGroup, ev.GroupCreated, str])
def test_codec_encode_decoded_refuses_what_it_cannot_format(event: type) -> None:
    """encode_decoded() makes no frame with a list of members, nor of a non-event."""
    with pytest.raises(LocalProtocolError):
        codec.encode_decoded(event, U1, 1, (U2,))


def test_codec_encode_decoded_refuses_a_frame_over_max_frame() -> None:
    """The length is checked even for decoded values: a 00 of MAX_FRAME characters is too long."""
    with pytest.raises(LocalProtocolError):
        codec.encode_decoded(ev.Greeting, "x" * (MAX_FRAME - 1))


@pytest.mark.parametrize("text", [t for t in INVALID_TEXT if t.values[0]])
def test_codec_decode_refuses_invalid_act_text(text: bytes) -> None:
    """A 31's text, when it has one, follows the rules of a 05's: 13/09."""
    line = b"31" + A + B + TS + b"E" + A + TS + text
    with pytest.raises(RemoteProtocolError) as caught:
        codec.decode(line, Side.CLIENT)
    assert caught.value.code is ErrorCode.INVALID_TEXT
