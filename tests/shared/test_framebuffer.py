"""Tests of shared.framebuffer: bytes in, frame lines out, the 1024-byte limit as a state.

Each scenario is fed whole, one byte at a time, and joined with other frames (as h11's
tests/test_io.py does), and drained both ways: next_frame() until NEED_MORE, and
frames(); random splits are in test_codec_properties.py.
"""

from collections.abc import Callable, Iterator

import pytest

from shared.codes import MAX_FRAME
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer, Status

Chunker = Callable[[bytes], Iterator[bytes]]


def whole(data: bytes) -> Iterator[bytes]:
    yield data


def bytewise(data: bytes) -> Iterator[bytes]:
    for i in range(len(data)):
        yield data[i:i + 1]


def in_threes(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), 3):
        yield data[i:i + 3]


CHUNKERS = [
    pytest.param(whole, id="whole"),
    pytest.param(bytewise, id="bytewise"),
    pytest.param(in_threes, id="in-threes"),
]


BY_FRAMES = [False]
"""Whether drain() asks frames() instead of next_frame() (set per test, below)."""


@pytest.fixture(autouse=True, params=[False, True], ids=["next_frame", "frames"])
def _drained_by(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test twice: the two ways of draining must give the same frames."""
    BY_FRAMES[0] = request.param
    yield
    BY_FRAMES[0] = False


def drain(buffer: FrameBuffer) -> list[bytes | Status]:
    """Everything next_frame() has to give, up to NEED_MORE (excluded), or frames()."""
    if BY_FRAMES[0]:
        return buffer.frames()
    out: list[bytes | Status] = []
    while (item := buffer.next_frame()) is not NEED_MORE:
        out.append(item)
        assert len(out) < 100_000, "next_frame() never says NEED_MORE"
    return out


def run(data: bytes, chunker: Chunker = whole, limit: int = MAX_FRAME) -> list[bytes | Status]:
    """Feed `data` in the chunks `chunker` makes, draining after every feed."""
    buffer = FrameBuffer(limit)
    out: list[bytes | Status] = []
    for chunk in chunker(data):
        buffer.feed(chunk)
        out += drain(buffer)
    return out


def test_framebuffer_empty_buffer_needs_more() -> None:
    """A fresh buffer has no frame and holds nothing."""
    buffer = FrameBuffer()
    assert buffer.next_frame() is NEED_MORE
    assert buffer.pending() == 0


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_returns_frame_without_lf(chunker: Chunker) -> None:
    """A frame comes out without its LF, however the bytes arrive."""
    assert run(b"05Client-000001Client-0000021700000000hello\n", chunker) == [
        b"05Client-000001Client-0000021700000000hello"
    ]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_returns_joined_frames_in_order(chunker: Chunker) -> None:
    """Several frames in one stream come out one by one, in order."""
    assert run(b"14\n15\n04Client-000001\n01\n", chunker) == [
        b"14", b"15", b"04Client-000001", b"01"
    ]


def test_framebuffer_holds_frame_until_its_lf() -> None:
    """Without an LF there is no frame yet, and the bytes are kept."""
    buffer = FrameBuffer()
    buffer.feed(b"14")
    assert buffer.next_frame() is NEED_MORE
    assert buffer.pending() == 2
    buffer.feed(b"\n")
    assert buffer.next_frame() == b"14"
    assert buffer.next_frame() is NEED_MORE
    assert buffer.pending() == 0


def test_framebuffer_forgets_returned_frames() -> None:
    """Returned frames are dropped once the buffer waits for more, so memory does not grow."""
    buffer = FrameBuffer()
    for _ in range(1000):
        buffer.feed(b"14\n15\n0")
        assert drain(buffer) == [b"14", b"15"]
        buffer.feed(b"1\n")
        assert drain(buffer) == [b"01"]
    # pending() cannot see returned frames still held, so look at the storage itself
    assert len(buffer._buffer) < 10

def test_framebuffer_pending_counts_bytes_not_yet_returned() -> None:
    """pending() counts fed bytes that no returned frame holds."""
    buffer = FrameBuffer()
    buffer.feed(b"14\n15\n01")
    assert buffer.pending() == 8
    assert buffer.next_frame() == b"14"
    assert buffer.pending() == 5
    assert buffer.next_frame() == b"15"
    assert buffer.next_frame() is NEED_MORE
    assert buffer.pending() == 2


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_strips_cr_before_lf(chunker: Chunker) -> None:
    """A CR just before the LF is dropped (nc -C, telnet)."""
    assert run(b"14\r\n15\n01\r\n", chunker) == [b"14", b"15", b"01"]


@pytest.mark.parametrize(
    ("data", "frames"),
    [
        pytest.param(b"a\rb\n", [b"a\rb"], id="cr-inside"),
        pytest.param(b"\rab\n", [b"\rab"], id="cr-first"),
        pytest.param(b"ab\r\r\n", [b"ab\r"], id="two-crs-before-lf"),
        pytest.param(b"ab\r", [], id="cr-without-lf"),
        pytest.param(b"\r\n", [b""], id="cr-lf-alone"),
        pytest.param(b"\n", [b""], id="lf-alone"),
        pytest.param(b"\n\r\n", [b"", b""], id="empty-lines"),
    ],
)
@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_strips_only_the_cr_right_before_lf(
    chunker: Chunker, data: bytes, frames: list[bytes]
) -> None:
    """Only one CR, and only right before the LF, is stripped; others stay for codec to refuse."""
    assert run(data, chunker) == frames


def test_framebuffer_does_not_strip_cr_of_previous_frame() -> None:
    """An LF right after a returned frame ends an empty frame; earlier bytes are not looked at."""
    buffer = FrameBuffer()
    buffer.feed(b"ab\r\n")
    assert buffer.next_frame() == b"ab"
    buffer.feed(b"\n")
    assert buffer.next_frame() == b""


@pytest.mark.parametrize("text", ["\u00e9", "\u20ac", "\U0001f469\u200d\U0001f4bb"])
def test_framebuffer_keeps_utf8_character_split_between_feeds(text: str) -> None:
    """A multi-byte UTF-8 character cut between two feeds comes out whole."""
    data = ("05Client-000001Client-0000021700000000" + text + "\n").encode()
    for cut in range(len(data) - len(text.encode()) - 1, len(data)):
        assert run(data, lambda d, cut=cut: iter([d[:cut], d[cut:]])) == [data[:-1]]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_accepts_exactly_the_limit(chunker: Chunker) -> None:
    """A frame of MAX_FRAME bytes is a frame."""
    frame = b"00" + b"x" * (MAX_FRAME - 2)
    assert run(frame + b"\n14\n", chunker) == [frame, b"14"]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_accepts_the_limit_followed_by_cr_lf(chunker: Chunker) -> None:
    """MAX_FRAME bytes then CR LF is a frame: the CR does not count."""
    frame = b"00" + b"x" * (MAX_FRAME - 2)
    assert run(frame + b"\r\n14\n", chunker) == [frame, b"14"]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_refuses_one_byte_over_the_limit_once(chunker: Chunker) -> None:
    """MAX_FRAME + 1 bytes give TOO_LONG exactly once; the next frame still comes out."""
    line = b"00" + b"x" * (MAX_FRAME - 1)
    assert run(line + b"\n14\n", chunker) == [TOO_LONG, b"14"]
    assert run(line + b"\r\n14\n", chunker) == [TOO_LONG, b"14"]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_counts_a_second_cr_against_the_limit(chunker: Chunker) -> None:
    """MAX_FRAME bytes, CR, CR, LF is MAX_FRAME + 1 bytes of content: TOO_LONG."""
    line = b"x" * MAX_FRAME
    assert run(line + b"\r\r\n14\n", chunker) == [TOO_LONG, b"14"]


def test_framebuffer_reports_too_long_at_byte_1025_without_lf() -> None:
    """TOO_LONG comes as soon as byte 1025 arrives that is not a CR, before any LF."""
    buffer = FrameBuffer()
    buffer.feed(b"x" * MAX_FRAME)
    assert buffer.next_frame() is NEED_MORE
    buffer.feed(b"y")
    assert buffer.next_frame() is TOO_LONG
    assert buffer.next_frame() is NEED_MORE
    assert buffer.pending() == 0


def test_framebuffer_waits_after_the_limit_when_a_cr_comes() -> None:
    """After MAX_FRAME bytes a CR may still be the start of CR LF: wait for the next byte."""
    buffer = FrameBuffer()
    buffer.feed(b"x" * MAX_FRAME + b"\r")
    assert buffer.next_frame() is NEED_MORE
    buffer.feed(b"z")
    assert buffer.next_frame() is TOO_LONG
    buffer.feed(b"\n14\n")
    assert drain(buffer) == [b"14"]


def test_framebuffer_reports_a_long_line_across_many_feeds_once() -> None:
    """A long run without LF over many feeds is one TOO_LONG, with bounded memory."""
    buffer = FrameBuffer()
    out: list[bytes | Status] = []
    for _ in range(200):
        buffer.feed(b"y" * 100)
        out += drain(buffer)
        assert buffer.pending() < 2 * MAX_FRAME
    assert out == [TOO_LONG]
    assert buffer.pending() == 0
    buffer.feed(b"yyy\n14\n")
    assert drain(buffer) == [b"14"]


def test_framebuffer_discards_without_keeping_bytes() -> None:
    """While discarding an over-long line, fed bytes are not kept."""
    buffer = FrameBuffer()
    buffer.feed(b"y" * (MAX_FRAME + 1))
    assert drain(buffer) == [TOO_LONG]
    buffer.feed(b"y" * 100_000)
    assert buffer.pending() == 0
    assert drain(buffer) == []
    buffer.feed(b"\r\n15\r\n")
    assert drain(buffer) == [b"15"]


def test_framebuffer_bounds_memory_when_fed_byte_by_byte() -> None:
    """Fed one byte at a time, the buffer never holds more than MAX_FRAME + 1 bytes."""
    buffer = FrameBuffer()
    out: list[bytes | Status] = []
    for _ in range(3 * MAX_FRAME):
        buffer.feed(b"y")
        out += drain(buffer)
        assert buffer.pending() <= MAX_FRAME + 1
    assert out == [TOO_LONG]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_returns_frames_before_a_long_line_first(chunker: Chunker) -> None:
    """Frames that precede a long line come out before its TOO_LONG, the rest after."""
    data = b"14\n15\n" + b"y" * (3 * MAX_FRAME) + b"\n01\n"
    assert run(data, chunker) == [b"14", b"15", TOO_LONG, b"01"]


def test_framebuffer_returns_frames_before_an_unfinished_long_line_first() -> None:
    """A frame fed with an unfinished long line comes out before TOO_LONG."""
    buffer = FrameBuffer()
    buffer.feed(b"14\n" + b"y" * (MAX_FRAME + 5))
    assert drain(buffer) == [b"14", TOO_LONG]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_reports_each_long_line(chunker: Chunker) -> None:
    """Two long lines are two TOO_LONGs, one each."""
    long = b"y" * (MAX_FRAME + 1)
    assert run(long + b"\n" + long + b"\n14\n", chunker) == [TOO_LONG, TOO_LONG, b"14"]


@pytest.mark.parametrize("chunker", CHUNKERS)
def test_framebuffer_honours_a_custom_limit(chunker: Chunker) -> None:
    """The limit is a parameter: 4 bytes fit, 5 do not."""
    assert run(b"abcd\r\nabcde\nab\n", chunker, limit=4) == [b"abcd", TOO_LONG, b"ab"]
