"""Property-based tests (hypothesis) of shared.codec and shared.framebuffer together.

Theory of operation: events are generated from codec.LAYOUTS, one strategy per field
Kind (shared/fields.py), so a new frame in the table is covered without touching this
file; a new Kind needs its strategy in FIELD_VALUES.
"""

import itertools
import re
from dataclasses import astuple, fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import codec
from shared import events as ev
from shared.codec import LAYOUTS, Side
from shared.codes import (
    INVITE_ALPHABET,
    INVITE_WIDTH,
    MAX_FRAME,
    MAX_GROUP_MEMBERS,
    MAX_NAME,
    MAX_TEXT,
    TOKEN_WIDTH,
    ActKind,
    ErrorCode,
    FrameCode,
    GroupOp,
)
from shared.errors import LocalProtocolError, RemoteProtocolError
from shared.fields import Kind, text_problem
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer, Status
from shared.ids import MAX_GROUP_NUMBER, MAX_USER_NUMBER, group_id, user_id

# Every code point UTF-8 can carry but Cc (surrogates cannot be encoded at all).
PRINTABLE = st.characters(exclude_categories=("Cs", "Cc"))
USERS = st.integers(1, MAX_USER_NUMBER).map(user_id)
GROUPS = st.integers(1, MAX_GROUP_NUMBER).map(group_id)
FIELD_VALUES: dict[Kind, st.SearchStrategy[object]] = {
    Kind.USER: USERS,
    Kind.GROUP: GROUPS,
    Kind.PEER: USERS | GROUPS,
    Kind.TOKEN: st.text("0123456789abcdef", min_size=TOKEN_WIDTH, max_size=TOKEN_WIDTH),
    Kind.INVITE: st.text(INVITE_ALPHABET, min_size=INVITE_WIDTH, max_size=INVITE_WIDTH),
    Kind.TS: st.integers(0, 9_999_999_999),
    Kind.ERROR_CODE: st.sampled_from(ErrorCode) | st.integers(0, 99),
    Kind.TEXT: st.text(PRINTABLE, min_size=1, max_size=MAX_TEXT).filter(
        lambda text: text_problem(text) is None
    ),
    Kind.NOTE: st.text(PRINTABLE, max_size=100),
    Kind.ACT_KIND: st.sampled_from(ActKind).map(str),
    Kind.ACT_TEXT: st.just("") | st.text(PRINTABLE, min_size=1, max_size=MAX_TEXT).filter(
        lambda text: text_problem(text) is None
    ),
    Kind.NAME: st.text(PRINTABLE, min_size=1, max_size=MAX_NAME),
    Kind.ARG: st.text(PRINTABLE, max_size=40),
    Kind.OP: st.sampled_from([op.value for op in GroupOp]),
    Kind.MEMBERS: st.lists(USERS, min_size=1, max_size=MAX_GROUP_MEMBERS + 1).map(tuple),
    Kind.FLAG: st.sampled_from((0, 1)),
    Kind.RECEIPTS: st.lists(st.tuples(USERS, st.integers(0, 9_999_999_999),
                                      st.integers(0, 9_999_999_999)),
                            max_size=MAX_GROUP_MEMBERS).map(tuple),
}


def events_from(side: Side) -> st.SearchStrategy[ev.Event]:
    """Valid events of every layout that `side` may send."""
    return st.one_of([
        st.builds(layout.event, *(FIELD_VALUES[kind] for _, kind in layout.fields))
        for layout in LAYOUTS
        if side in layout.sent_by
    ])


@st.composite
def split_streams(draw: st.DrawFn) -> tuple[Side, list[ev.Event], list[bytes]]:
    """A side, events it sends, and their frames joined then cut at random byte offsets."""
    side = draw(st.sampled_from(Side))
    events = draw(st.lists(events_from(side), max_size=12))
    data = b"".join(codec.encode(event) for event in events)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    edges = [0, *cuts, len(data)]
    return side, events, [data[a:b] for a, b in itertools.pairwise(edges)]


def drain(buffer: FrameBuffer) -> list[bytes | Status]:
    """Everything next_frame() has to give, up to NEED_MORE (excluded)."""
    out: list[bytes | Status] = []
    while (item := buffer.next_frame()) is not NEED_MORE:
        out.append(item)
        assert len(out) < 100_000, "next_frame() never says NEED_MORE"
    return out


@given(st.sampled_from(Side).flatmap(events_from))
def test_codec_round_trips_every_valid_event(event: ev.Event) -> None:
    """decode(encode(e)) == e for every valid event, and the frame is one line within the limit."""
    frame = codec.encode(event)
    assert frame.endswith(b"\n") and frame.count(b"\n") == 1
    assert len(frame) <= MAX_FRAME + 1
    layout = codec.BY_EVENT[type(event)]
    for side in layout.sent_by:
        assert codec.decode(frame[:-1], side) == event


@given(st.builds(ev.Send, USERS, FIELD_VALUES[Kind.PEER], FIELD_VALUES[Kind.TS],
                 FIELD_VALUES[Kind.TEXT]))
def test_codec_relay_as_deliver_equals_encoding_the_06(send: ev.Send) -> None:
    """The 06 relayed from any valid 05 line is the 06 encode() makes of the same fields."""
    line = codec.encode(send)[:-1]
    assert codec.relay_as_deliver(line) == codec.encode(ev.Deliver(*astuple(send)))


@given(st.builds(ev.Send, USERS, FIELD_VALUES[Kind.PEER], FIELD_VALUES[Kind.TS],
                 FIELD_VALUES[Kind.TEXT]))
def test_codec_accepted_for_and_delivered_for_equal_encoding_the_16_and_07(
        send: ev.Send) -> None:
    """The 16 cut from any valid 05 line, and the 07 from the 12 of its key, are the frames
    encode() makes of their dst and ts."""
    line = codec.encode(send)[:-1]
    assert codec.accepted_for(line) == codec.encode(ev.Accepted(send.dst, send.ts))
    receipt = codec.encode(ev.Receipt(send.src, send.dst, send.ts))[:-1]
    assert codec.delivered_for(receipt) == codec.encode(ev.Delivered(send.dst, send.ts))


@settings(max_examples=300)
@given(split_streams())
def test_codec_stream_split_anywhere_decodes_to_the_same_events(
    stream: tuple[Side, list[ev.Event], list[bytes]],
) -> None:
    """Valid frames joined, cut at any byte (inside UTF-8 too) and framed decode in order."""
    side, events, chunks = stream
    buffer = FrameBuffer()
    lines: list[bytes | Status] = []
    for chunk in chunks:
        buffer.feed(chunk)
        lines += drain(buffer)
    assert TOO_LONG not in lines
    assert [codec.decode(line, side) for line in lines if isinstance(line, bytes)] == events
    assert buffer.pending() == 0


def test_codec_stream_cut_at_every_offset_decodes_to_the_same_events() -> None:
    """Frames with 2-, 3- and 4-byte characters, cut in two at every byte, decode the same."""
    events = [
        ev.Greeting("Interzap/1 \u00e9"),
        ev.Deliver(user_id(1), group_id(2), 1700000000, "\u20ac \U0001f469\u200d\U0001f4bb"),
        ev.Error(ErrorCode.TOO_LONG, "trop long \u00e0"),
        ev.Ping(),
    ]
    data = b"".join(codec.encode(event) for event in events)
    for cut in range(len(data) + 1):
        buffer = FrameBuffer()
        buffer.feed(data[:cut])
        lines = drain(buffer)
        buffer.feed(data[cut:])
        lines += drain(buffer)
        assert [codec.decode(line, Side.SERVER) for line in lines] == events, cut


@given(st.binary(max_size=300), st.sampled_from(Side))
def test_codec_decode_raises_only_remote_errors_for_any_bytes(line: bytes, side: Side) -> None:
    """decode() of arbitrary bytes gives an event or RemoteProtocolError, nothing else."""
    try:
        codec.decode(line, side)
    except RemoteProtocolError as error:
        assert isinstance(error.code, ErrorCode)


@given(
    st.sampled_from(FrameCode),
    st.text(max_size=120) | st.binary(max_size=120),
    st.sampled_from(Side),
)
def test_codec_decode_raises_only_remote_errors_after_a_valid_code(
    code: FrameCode, rest: str | bytes, side: Side
) -> None:
    """decode() of a valid code followed by anything gives an event or RemoteProtocolError."""
    tail = rest.encode("utf-8", "surrogatepass") if isinstance(rest, str) else rest
    try:
        codec.decode(b"%02d" % code + tail, side)
    except RemoteProtocolError as error:
        assert isinstance(error.code, ErrorCode)


def has_members(layout: codec.Layout) -> bool:
    """Whether a field is a list (members, receipts): no single % formats it."""
    return any(kind.value.template is None for _, kind in layout.fields)


@given(st.sampled_from(Side).flatmap(events_from))
def test_codec_encode_decoded_gives_encode_bytes_for_decoded_values(event: ev.Event) -> None:
    """For the values decode() returns, encode_decoded() writes exactly what encode() does
    (and refuses a layout with a list of members, which it cannot format)."""
    frame = codec.encode(event)
    layout = codec.BY_EVENT[type(event)]
    for side in layout.sent_by:
        decoded = codec.decode(frame[:-1], side)
        values = [getattr(decoded, name) for name, _ in layout.fields]
        if has_members(layout):
            with pytest.raises(LocalProtocolError):
                codec.encode_decoded(layout.event, *values)
        else:
            assert codec.encode_decoded(layout.event, *values) == frame


RELAYS = [
    pytest.param(ev.Send, ev.Deliver, ("src", "dst", "ts", "text"), id="05-to-06"),
    pytest.param(ev.Send, ev.Accepted, ("dst", "ts"), id="05-to-16"),
    pytest.param(ev.Receipt, ev.Delivered, ("dst", "ts"), id="12-to-07"),
]


@pytest.mark.parametrize(("source", "target", "names"), RELAYS)
@given(data=st.data())
def test_codec_encode_decoded_relays_what_the_server_relays(
    source: type, target: type, names: tuple[str, ...], data: st.DataObject,
) -> None:
    """The server's 06, 16 and 07 from a decoded 05 or 12 are encode()'s bytes for them."""
    layout = codec.BY_EVENT[source]
    event = data.draw(st.builds(source, *(FIELD_VALUES[kind] for _, kind in layout.fields)))
    decoded = codec.decode(codec.encode(event)[:-1], Side.CLIENT)
    values = [getattr(decoded, name) for name in names]
    assert codec.encode_decoded(target, *values) == codec.encode(target(*values))


def raw_of(kind: Kind, value: object) -> str:
    """A valid value as it stands in a frame."""
    if kind is Kind.MEMBERS:
        return "".join(value)  # type: ignore[arg-type]
    if kind in (Kind.TS, Kind.ERROR_CODE):
        return f"{value:0{kind.value.width}d}"
    return str(value)


EDGES = ("0123456789abcdefABCDEFILOZ-ClientGroup "
         "\x00\n\x1f\x7f\x85\xa0\xe9\u0663\u00b2\uff11\U0001f44b")
"""Characters on the edges of the field patterns: digits of other scripts, controls, ..."""


@st.composite
def raw_fields(draw: st.DrawFn, kind: Kind) -> str:
    """A text for a field of `kind`: a valid one, perhaps repeated to about MAX_TEXT
    characters, with up to 4 characters replaced, inserted or deleted (a fixed-width
    field is cut from its frame at its width)."""
    width = kind.value.width
    chars = list(raw_of(kind, draw(FIELD_VALUES[kind])))
    if width is None and chars and draw(st.booleans()):
        chars = (chars * MAX_TEXT)[:draw(st.integers(MAX_TEXT - 2, MAX_TEXT + 2))]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(chars)))
        edit = draw(st.sampled_from(("replace", "insert", "delete")))
        if edit == "insert" or not chars:
            chars.insert(at, draw(st.sampled_from(EDGES)))
        elif edit == "replace":
            chars[min(at, len(chars) - 1)] = draw(st.sampled_from(EDGES))
        else:
            del chars[min(at, len(chars) - 1)]
    if width is None:
        return "".join(chars)
    return "".join(chars + draw(st.lists(st.sampled_from(EDGES), min_size=width)))[:width]


@pytest.mark.parametrize("kind", list(Kind), ids=lambda kind: kind.name)
@settings(max_examples=300)
@given(data=st.data())
def test_codec_field_patterns_accept_exactly_what_the_parsers_accept(
    kind: Kind, data: st.DataObject,
) -> None:
    """decode() matches a frame whole with the kinds' patterns: each accepts exactly what
    its parser accepts."""
    raw = data.draw(raw_fields(kind))
    try:
        kind.value.parse(raw, "field")
    except RemoteProtocolError:
        accepted = False
    else:
        accepted = True
    assert (re.fullmatch(kind.value.pattern, raw) is not None) is accepted


ID_LIKE = st.text("Client-Group0123456789abcdefABCDEF\n\r\x00", min_size=13, max_size=13)
ANY_VALUE_OF_TYPE: dict[object, st.SearchStrategy[object]] = {
    str: st.text(max_size=40) | ID_LIKE | st.text("0123456789abcdefABCDEF", min_size=32,
                                                      max_size=32),
    int: st.integers(-5, 10**11),
    tuple[str, ...]: st.lists(ID_LIKE | st.text(max_size=14), max_size=3).map(tuple),
    tuple[tuple[str, int, int], ...]: st.lists(
        st.tuples(ID_LIKE | st.text(max_size=14), st.integers(-5, 10**11),
                  st.integers(-5, 10**11)), max_size=3).map(tuple),
}


@given(st.sampled_from(LAYOUTS).flatmap(
    lambda layout: st.builds(
        layout.event, *(ANY_VALUE_OF_TYPE[field.type] for field in fields(layout.event))
    )
))
def test_codec_encode_emits_only_frames_that_decode_back(event: ev.Event) -> None:
    """Whatever the (well-typed) field values, encode() raises LocalProtocolError or round-trips."""
    try:
        frame = codec.encode(event)
    except LocalProtocolError:
        return
    layout = codec.BY_EVENT[type(event)]
    for side in layout.sent_by:
        assert codec.decode(frame[:-1], side) == event


def reference_frames(data: bytes, limit: int) -> list[bytes | Status]:
    """What a frame buffer must return for all of `data`: the rules, written naively."""
    *lines, rest = data.split(b"\n")
    out: list[bytes | Status] = []
    for line in lines:
        content = line[:-1] if line.endswith(b"\r") else line
        out.append(TOO_LONG if len(content) > limit else content)
    if len(rest) > limit + 1 or (len(rest) == limit + 1 and not rest.endswith(b"\r")):
        out.append(TOO_LONG)
    return out


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from([b"a", b"\xc3\xa9", b"\r", b"\n", b"\r\n"]), max_size=80)
    .map(b"".join),
    st.lists(st.integers(0, 200), max_size=12),
)
@pytest.mark.parametrize("by_frames", [False, True], ids=["next_frame", "frames"])
def test_framebuffer_output_does_not_depend_on_the_split(
        by_frames: bool, data: bytes, cuts: list[int]) -> None:
    """With a small limit, any byte stream cut anywhere frames as the naive rules say,
    drained by next_frame() or by frames() (every complete line at once)."""
    limit = 6
    edges = [0, *sorted(min(cut, len(data)) for cut in cuts), len(data)]
    buffer = FrameBuffer(limit)
    out: list[bytes | Status] = []
    for a, b in itertools.pairwise(edges):
        buffer.feed(data[a:b])
        out += buffer.frames() if by_frames else drain(buffer)
        assert buffer.pending() <= limit + 1
    assert out == reference_frames(data, limit)

