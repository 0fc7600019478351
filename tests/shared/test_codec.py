"""Tests of shared.codec: every frame of the LAYOUTS table, encoded and decoded byte-exactly.

Decode errors (the peer's fault, with the code to answer) are in test_codec_errors.py;
property-based tests over random events and splits are in test_codec_properties.py.
"""

import unicodedata
from dataclasses import astuple, fields

import pytest

from shared import codec
from shared import events as ev
from shared.codec import LAYOUTS, Side
from shared.codes import MAX_FRAME, MAX_NAME, MAX_TEXT, ErrorCode, FrameCode
from shared.errors import RemoteProtocolError
from shared.fields import text_problem

A, B, C = "Client-000001", "Client-000002", "Client-000003"
GROUP = "Group-0000001"
TOKEN = "0123456789abcdef0123456789abcdef"

EXAMPLES: dict[FrameCode, tuple[ev.Event, bytes]] = {
    FrameCode.GREETING: (ev.Greeting("Interzap/1"), b"00Interzap/1\n"),
    FrameCode.REGISTER: (ev.Register(), b"01\n"),
    FrameCode.REGISTERED: (ev.Registered(A, TOKEN), b"02Client-000001" + TOKEN.encode() + b"\n"),
    FrameCode.LOGIN: (ev.Login(A, TOKEN), b"03Client-000001" + TOKEN.encode() + b"\n"),
    FrameCode.LOGGED_IN: (ev.LoggedIn(A), b"04Client-000001\n"),
    FrameCode.SEND: (
        ev.Send(A, B, 1700000000, "hello"),
        b"05Client-000001Client-0000021700000000hello\n",
    ),
    FrameCode.DELIVER: (
        ev.Deliver(A, GROUP, 1700000000, "h\u00e9 \U0001f44b"),
        b"06Client-000001Group-00000011700000000h\xc3\xa9 \xf0\x9f\x91\x8b\n",
    ),
    FrameCode.DELIVERED: (ev.Delivered(B, 1700000001), b"07Client-0000021700000001\n"),
    FrameCode.READ: (ev.Read(GROUP, 1700000002), b"08Group-00000011700000002\n"),
    FrameCode.READ_NOTICE: (ev.ReadNotice(A, 42), b"09Client-0000010000000042\n"),
    FrameCode.CREATE_GROUP: (
        ev.CreateGroup(A, 1700000003, (B, C)),
        b"10Client-0000011700000003Client-000002Client-000003\n",
    ),
    FrameCode.GROUP_CREATED: (
        ev.GroupCreated(GROUP, 1700000003, (A, B, C)),
        b"11Group-00000011700000003Client-000001Client-000002Client-000003\n",
    ),
    FrameCode.RECEIPT: (ev.Receipt(A, B, 0), b"12Client-000001Client-0000020000000000\n"),
    FrameCode.ERROR: (ev.Error(ErrorCode.TOO_LONG, "frame too long"), b"1302frame too long\n"),
    FrameCode.PING: (ev.Ping(), b"14\n"),
    FrameCode.PONG: (ev.Pong(), b"15\n"),
    FrameCode.ACCEPTED: (ev.Accepted(B, 9999999999), b"16Client-0000029999999999\n"),
    FrameCode.BLOCK: (ev.Block(B), b"17Client-000002\n"),
    FrameCode.UNBLOCK: (ev.Unblock(B), b"18Client-000002\n"),
    FrameCode.BLOCK_LIST: (ev.BlockList((B, C)), b"19Client-000002Client-000003\n"),
    FrameCode.REGISTER_INVITE: (ev.RegisterInvite("7KQ2MXW9RTB4HJZP"), b"207KQ2MXW9RTB4HJZP\n"),
    FrameCode.SET_NAME: (ev.SetName("Bob \u00e9"), b"21Bob \xc3\xa9\n"),
    FrameCode.NAME: (ev.Name(B, "Bob"), b"22Client-000002Bob\n"),
    FrameCode.GROUP_CHANGE: (
        ev.GroupChange(GROUP, 1700000004, "A", C),
        b"23Group-00000011700000004AClient-000003\n",
    ),
    FrameCode.GROUP_EVENT: (
        ev.GroupEvent(GROUP, 1700000004, A, "L", ""),
        b"24Group-00000011700000004Client-000001L\n",
    ),
    FrameCode.INFO: (ev.Info(GROUP, 1700000000), b"25Group-00000011700000000\n"),
    FrameCode.INFO_ANSWER: (
        ev.InfoAnswer(GROUP, 1700000000, ((B, 1700000005, 1700000060), (C, 0, 0))),
        b"26Group-00000011700000000Client-00000217000000051700000060"
        b"Client-00000300000000000000000000\n",
    ),
    FrameCode.TYPING: (ev.Typing(A, GROUP), b"27Client-000001Group-0000001\n"),
    FrameCode.PRIVACY: (ev.Privacy(1), b"281\n"),
    FrameCode.PRESENCE_ASK: (ev.PresenceAsk(B), b"29Client-000002\n"),
    FrameCode.PRESENCE: (ev.Presence(B, 1700000300), b"30Client-0000021700000300\n"),
    FrameCode.ACT: (
        ev.Act(B, A, 1700000060, "R", A, 1700000000, "yes!"),
        b"31Client-000002Client-0000011700000060RClient-0000011700000000yes!\n",
    ),
    FrameCode.ACTED: (
        ev.Acted(B, GROUP, 1700000061, "X", A, 1700000000, "\U0001f44d"),
        b"32Client-000002Group-00000011700000061XClient-0000011700000000\xf0\x9f\x91\x8d\n",
    ),
}

EVERY_LAYOUT = [
    pytest.param(layout, id=f"{layout.code:02d}-{layout.event.__name__}") for layout in LAYOUTS
]
ONE_SIDED = [
    pytest.param(layout, id=f"{layout.code:02d}-{layout.event.__name__}")
    for layout in LAYOUTS
    if len(layout.sent_by) == 1
]


def sender_of(layout: codec.Layout) -> Side:
    """A side that may send frames of this layout."""
    return Side.CLIENT if Side.CLIENT in layout.sent_by else Side.SERVER


def test_codec_examples_cover_every_frame_code() -> None:
    """Every frame code has exactly one layout, and every layout a byte-exact example here."""
    assert sorted(layout.code for layout in LAYOUTS) == sorted(FrameCode)
    assert set(EXAMPLES) == set(FrameCode)


@pytest.mark.parametrize("layout", EVERY_LAYOUT)
def test_codec_layout_names_the_event_fields_in_order(layout: codec.Layout) -> None:
    """A layout lists its event's dataclass fields, same names, same order."""
    assert [name for name, _ in layout.fields] == [field.name for field in fields(layout.event)]


@pytest.mark.parametrize("layout", EVERY_LAYOUT)
def test_codec_encode_gives_exact_bytes(layout: codec.Layout) -> None:
    """encode() writes the code, the fields concatenated, and one LF."""
    event, frame = EXAMPLES[layout.code]
    assert codec.encode(event) == frame


@pytest.mark.parametrize("layout", EVERY_LAYOUT)
def test_codec_decode_gives_the_event(layout: codec.Layout) -> None:
    """decode() of a frame line (without its LF) from its sender gives back the event."""
    event, frame = EXAMPLES[layout.code]
    decoded = codec.decode(frame[:-1], sender_of(layout))
    assert decoded == event
    assert type(decoded) is layout.event


@pytest.mark.parametrize("layout", EVERY_LAYOUT)
def test_events_compare_and_hash_by_type_and_fields(layout: codec.Layout) -> None:
    """An event equals, and hashes as, one of its type with equal fields, never one of
    another type (a 05 is not its 06); it is slotted, and its repr names its fields."""
    event, _ = EXAMPLES[layout.code]
    twin = layout.event(*astuple(event))
    assert twin == event and hash(twin) == hash(event) and {event: 1}[twin] == 1
    assert not hasattr(event, "__dict__")
    assert repr(event).startswith(f"{layout.event.__name__}(")
    assert ev.Send(A, B, 1, "x") != ev.Deliver(A, B, 1, "x")
    assert ev.Act(A, B, 1, "r", A, 1, "") != ev.Acted(A, B, 1, "r", A, 1, "")


@pytest.mark.parametrize("layout", EVERY_LAYOUT)
def test_codec_layout_of_an_event_carries_its_code(layout: codec.Layout) -> None:
    """BY_EVENT finds an event's layout, whose code starts the event's frame."""
    event, frame = EXAMPLES[layout.code]
    assert codec.BY_EVENT[type(event)] is layout
    assert frame[:2] == b"%02d" % layout.code


@pytest.mark.parametrize("line", [b"14", b"15"])
@pytest.mark.parametrize("sender", [Side.CLIENT, Side.SERVER])
def test_codec_ping_and_pong_come_from_both_sides(line: bytes, sender: Side) -> None:
    """14 and 15 may be sent by the client and by the server."""
    assert isinstance(codec.decode(line, sender), ev.Ping | ev.Pong)


def test_codec_decode_keeps_known_error_code_as_enum() -> None:
    """A 13 with a known code decodes to that ErrorCode member."""
    event = codec.decode(b"1399database is down", Side.SERVER)
    assert event == ev.Error(ErrorCode.INTERNAL, "database is down")
    assert isinstance(event, ev.Error) and event.code is ErrorCode.INTERNAL


def test_codec_decode_keeps_unknown_error_code_as_int() -> None:
    """A 13 with a code newer than this package keeps the plain number."""
    event = codec.decode(b"1377from the future", Side.SERVER)
    assert event == ev.Error(77, "from the future")
    assert isinstance(event, ev.Error)
    assert type(event.code) is int


def test_codec_decode_accepts_error_without_reason() -> None:
    """The reason of a 13 may be empty."""
    assert codec.decode(b"1301", Side.SERVER) == ev.Error(ErrorCode.MALFORMED, "")


def test_codec_info_answer_may_be_empty_and_privacy_is_one_digit() -> None:
    """A 26 for a group whose other members all left lists nobody; a 28 is 0 or 1 only."""
    assert codec.decode(b"26Group-00000011700000000", Side.SERVER) == ev.InfoAnswer(
        GROUP, 1700000000, ())
    assert codec.decode(b"280", Side.CLIENT) == ev.Privacy(0)
    for bad in (b"282", b"28", b"2811"):
        with pytest.raises(RemoteProtocolError) as caught:
            codec.decode(bad, Side.CLIENT)
        assert caught.value.code == ErrorCode.MALFORMED
    with pytest.raises(RemoteProtocolError):
        codec.decode(b"26Group-00000011700000000Client-0000021700000005", Side.SERVER)


def test_codec_block_list_may_be_empty() -> None:
    """A 19 lists zero or more users: `19` alone says you block no one."""
    assert codec.decode(b"19", Side.SERVER) == ev.BlockList(())
    assert codec.encode(ev.BlockList(())) == b"19\n"


def test_codec_names_take_up_to_max_name_code_points() -> None:
    """A 21 or 22 name is 1..MAX_NAME code points, spaces and emoji included."""
    name = "\U0001f600" * MAX_NAME
    assert codec.decode(b"21" + name.encode(), Side.CLIENT) == ev.SetName(name)
    assert codec.decode(b"22" + B.encode() + b"a b", Side.SERVER) == ev.Name(B, "a b")


@pytest.mark.parametrize("line", [b"21", b"21" + b"x" * (MAX_NAME + 1), b"21a\tb",
                                  b"22Client-000002"])
def test_codec_bad_names_are_refused_with_13_24(line: bytes) -> None:
    """An empty name, one too long, or one with a control character: 13/24."""
    sender = Side.SERVER if line.startswith(b"22") else Side.CLIENT
    with pytest.raises(RemoteProtocolError) as caught:
        codec.decode(line, sender)
    assert caught.value.code == ErrorCode.INVALID_NAME


@pytest.mark.parametrize("line", [b"23" + GROUP.encode() + b"1700000000X",
                                  b"23" + GROUP.encode() + b"1700000000",
                                  b"23" + B.encode() + b"1700000000L"])
def test_codec_group_change_needs_a_known_op_and_a_group(line: bytes) -> None:
    """A 23 without an op, with an unknown one, or naming a user as the group: 13/01."""
    with pytest.raises(RemoteProtocolError) as caught:
        codec.decode(line, Side.CLIENT)
    assert caught.value.code == ErrorCode.MALFORMED


def test_codec_decode_accepts_empty_greeting() -> None:
    """The text of a 00 is free and may be empty."""
    assert codec.decode(b"00", Side.SERVER) == ev.Greeting("")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * MAX_TEXT, id="218-ascii"),
        pytest.param("\u00e9" * MAX_TEXT, id="218-two-byte"),
        pytest.param("\u20ac" * MAX_TEXT, id="218-three-byte"),
        pytest.param("\U0001f600" * MAX_TEXT, id="218-four-byte"),
        pytest.param("\U0001f469\u200d\U0001f4bb", id="zero-width-joiner"),
        pytest.param("soft\u00adhyphen \u200e\u200f\ufeff", id="format-characters"),
        pytest.param("line\u2028para\u2029", id="unicode-separators"),
        pytest.param(" ", id="one-space"),
        pytest.param("\u00a0\u00a1\u00ff", id="just-above-c1-controls"),
    ],
)
def test_codec_message_text_accepts_code_points_up_to_the_limit(text: str) -> None:
    """Texts of 1..218 code points without a Cc character pass, whatever their byte size."""
    assert text_problem(text) is None
    frame = codec.encode(ev.Send(A, B, 1700000000, text))
    assert codec.decode(frame[:-1], Side.CLIENT) == ev.Send(A, B, 1700000000, text)


def test_codec_text_problem_refuses_exactly_category_cc() -> None:
    """text_problem() flags a single code point iff its Unicode category is Cc."""
    for point in range(0x110000):
        if 0xD800 <= point <= 0xDFFF:
            continue  # surrogates cannot come out of UTF-8 decoding
        char = chr(point)
        is_control = unicodedata.category(char) == "Cc"
        assert (text_problem(char) is not None) == is_control, hex(point)


def test_codec_decode_accepts_a_frame_of_exactly_max_frame_bytes() -> None:
    """A frame of MAX_FRAME bytes (without LF) is not too long."""
    line = b"00" + b"x" * (MAX_FRAME - 2)
    assert codec.decode(line, Side.SERVER) == ev.Greeting("x" * (MAX_FRAME - 2))


def test_codec_encode_accepts_a_frame_of_exactly_max_frame_bytes() -> None:
    """encode() allows MAX_FRAME bytes of content plus the LF."""
    frame = codec.encode(ev.Greeting("\u00e9" * ((MAX_FRAME - 2) // 2)))
    assert len(frame) == MAX_FRAME + 1


def test_codec_decode_accepts_group_with_many_members() -> None:
    """The members field of a 10 or 11 is any number of user ids (the server checks counts)."""
    members = tuple(f"Client-{n:06d}" for n in range(1, 10))
    line = b"11Group-00000011700000003" + "".join(members).encode()
    assert codec.decode(line, Side.SERVER) == ev.GroupCreated(GROUP, 1700000003, members)


def decoded_values(layout: codec.Layout) -> list[object]:
    """The field values of the layout's example, as decode() returns them."""
    frame = EXAMPLES[layout.code][1]
    decoded = codec.decode(frame[:-1], sender_of(layout))
    return [getattr(decoded, name) for name, _ in layout.fields]


@pytest.mark.parametrize("layout", [
    pytest.param(layout, id=f"{layout.code:02d}-{layout.event.__name__}") for layout in LAYOUTS
    if all(kind.value.template is not None for _, kind in layout.fields)
])
def test_codec_encode_decoded_gives_exact_bytes(layout: codec.Layout) -> None:
    """encode_decoded() of decoded field values writes the same bytes as encode()."""
    assert codec.encode_decoded(layout.event, *decoded_values(layout)) == EXAMPLES[layout.code][1]


def test_codec_encode_decoded_makes_the_servers_relays() -> None:
    """The server's 06, 16 and 07 made from the fields of a decoded 05 and 12."""
    send = codec.decode(b"05Client-000001Group-00000011700000000h\xc3\xa9", Side.CLIENT)
    receipt = codec.decode(b"12Client-000001Group-00000011700000000", Side.CLIENT)
    assert isinstance(send, ev.Send) and isinstance(receipt, ev.Receipt)
    assert (codec.encode_decoded(ev.Deliver, send.src, send.dst, send.ts, send.text)
            == b"06Client-000001Group-00000011700000000h\xc3\xa9\n")
    assert codec.encode_decoded(ev.Accepted, send.dst, send.ts) == b"16Group-00000011700000000\n"
    assert (codec.encode_decoded(ev.Delivered, receipt.dst, receipt.ts)
            == b"07Group-00000011700000000\n")


def test_codec_relay_as_deliver_is_the_05_with_the_06_code() -> None:
    """relay_as_deliver() of a decoded 05 line is the 06 that encode_decoded() makes of it."""
    line = b"05Client-000001Group-00000011700000000h\xc3\xa9"
    send = codec.decode(line, Side.CLIENT)
    assert isinstance(send, ev.Send)
    assert (codec.relay_as_deliver(line)
            == codec.encode_decoded(ev.Deliver, send.src, send.dst, send.ts, send.text)
            == b"06Client-000001Group-00000011700000000h\xc3\xa9\n")


def test_codec_accepted_for_and_delivered_for_cut_the_key_from_the_line() -> None:
    """The 16 of a 05 line and the 07 of a 12 line are their dst and ts, as encode_decoded()
    makes them."""
    assert (codec.accepted_for(b"05Client-000001Group-00000011700000000h\xc3\xa9")
            == b"16Group-00000011700000000\n")
    assert (codec.delivered_for(b"12Client-000001Group-00000011700000000")
            == b"07Group-00000011700000000\n")



def test_codec_act_text_may_be_empty() -> None:
    """A 31's text may be empty (a deletion, a reaction taken back); a 05's may not."""
    line = b"31Client-000001Client-0000021700000100DClient-0000011700000000"
    assert codec.decode(line, Side.CLIENT) == ev.Act(A, B, 1700000100, "D", A, 1700000000, "")
    assert codec.encode(ev.Acted(A, B, 1700000100, "D", A, 1700000000, "")) == (
        b"32" + line[2:] + b"\n")


def test_codec_relay_as_acted_is_the_31_with_the_32_code() -> None:
    """The server's 32 is the 31 it accepted with the code replaced, LF added."""
    event, frame = EXAMPLES[FrameCode.ACT]
    relayed = codec.relay_as_acted(frame[:-1])
    assert relayed == b"32" + frame[2:]
    assert codec.decode(relayed[:-1], Side.SERVER) == ev.Acted(*astuple(event))
