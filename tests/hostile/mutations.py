"""Inputs for fuzzing the decoder and the frame buffer: valid frames, and ways to break them.

Shared by tests/hostile/test_fuzz.py (hypothesis, small) and soak/fuzz.py (a plain
random loop over a million inputs, and atheris). Knows the wire format only
through shared.codec; refuses to know sockets.

Theory of operation: random bytes almost never get past the two-digit code, so
most inputs start from a valid frame of every layout (SEEDS) and change it a
little: a byte replaced (often by one that matters here: LF, CR, NUL, a
control character, half a UTF-8 character, a digit, a non-ASCII digit), bytes
inserted, deleted or repeated, two frames spliced, a frame cut short or made
longer than the limit. A mutant that still decodes must encode back to the very
same bytes: the wire format has one spelling per event.
"""

from __future__ import annotations

import itertools
import random

from shared import codec
from shared import events as ev
from shared.codec import Side
from shared.codes import MAX_FRAME, ErrorCode
from shared.errors import RemoteProtocolError

ALICE, BOB, GROUP = "Client-000001", "Client-000002", "Group-0000001"
TOKEN = "4286cbca7094cca79b3f4cb04338d168"
TS = 1732500000
SEED_EVENTS: tuple[ev.Event, ...] = (
    ev.Greeting("Interzap/1"),
    ev.Register(),
    ev.Registered(ALICE, TOKEN),
    ev.Login(ALICE, TOKEN),
    ev.LoggedIn(ALICE),
    ev.Send(ALICE, BOB, TS, "hello Bob"),
    ev.Send(ALICE, GROUP, TS, "olá 👋 \u200d€"),
    ev.Send(ALICE, BOB, TS, "x" * 218),
    ev.Deliver(ALICE, GROUP, TS, "hi all"),
    ev.Delivered(BOB, TS),
    ev.Read(ALICE, TS),
    ev.ReadNotice(GROUP, TS),
    ev.CreateGroup(ALICE, TS, (BOB, "Client-000003")),
    ev.GroupCreated(GROUP, TS, (ALICE, BOB, "Client-000003")),
    ev.Receipt(ALICE, GROUP, TS),
    ev.Error(ErrorCode.MALFORMED, "a frame starts with a two-digit code"),
    ev.Ping(),
    ev.Pong(),
    ev.Accepted(GROUP, TS),
    ev.Act(ALICE, BOB, TS, "X", BOB, TS, "👍"),
    ev.Acted(BOB, GROUP, TS, "E", BOB, TS, "edited"),
)
SEEDS: tuple[bytes, ...] = tuple(codec.encode(event)[:-1] for event in SEED_EVENTS)
"""One valid frame line (without its LF) per event above."""
INTERESTING = (b"\n", b"\r", b"\r\n", b"\x00", b"\x1f", b"\x7f", b"\xc2\x85", b"\x80", b"\xc3",
               b"\xe2\x82", b"\xf0\x9f\x91", b"\xff", b"\xed\xa0\x80", b"0", b"9", b"-", b"a",
               b"F", "٣".encode(), "²".encode(), b"Client-", b"Group-", b" ", b"13", b"99")
"""Bytes that sit on the decoder's edges: framing, controls, broken UTF-8, (non-)digits."""


def mutate(rng: random.Random, data: bytes) -> bytes:
    """`data` changed by one to four random edits."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        at = rng.randint(0, len(out))
        if op == 0 and out:  # replace a byte by anything
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op == 1:  # insert something that matters
            out[at:at] = rng.choice(INTERESTING)
        elif op == 2:  # replace a run by something that matters
            out[at:at + rng.randint(1, 3)] = rng.choice(INTERESTING)
        elif op == 3:  # delete a run
            del out[at:at + rng.randint(1, 16)]
        elif op == 4:  # repeat a run
            out[at:at] = out[at:at + rng.randint(1, 16)]
        elif op == 5:  # cut short
            del out[at:]
        elif op == 6:  # splice another frame in
            other = rng.choice(SEEDS)
            out[at:] = other[rng.randint(0, len(other)):]
        elif op == 7:  # random bytes
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        else:  # around the size limit
            out += b"y" * max(0, MAX_FRAME - len(out) + rng.randint(-2, 3))
    return bytes(out)


def random_line(rng: random.Random) -> bytes:
    """Mostly a mutated valid frame; sometimes plain random bytes or a valid frame."""
    roll = rng.random()
    if roll < 0.05:
        return rng.randbytes(rng.randint(0, 40))
    if roll < 0.1:
        return rng.choice(SEEDS)
    return mutate(rng, rng.choice(SEEDS))


def check_decode(line: bytes, side: Side) -> ev.Event | None:
    """decode() must give an event that encodes back to `line`, or a RemoteProtocolError
    with an ErrorCode; anything else escapes (a bug). None if the line was refused."""
    try:
        event = codec.decode(line, side)
    except RemoteProtocolError as refusal:
        assert isinstance(refusal.code, ErrorCode), refusal
        return None
    again = codec.encode(event)
    assert again == line + b"\n", f"{line!r} decodes to {event!r}, which encodes to {again!r}"
    return event


def reference_frames(data: bytes, limit: int) -> list[bytes | str]:
    """What a frame buffer must return for all of `data` (PROTOCOL.md 1, naively):
    each line without LF and one CR, or "too long" once per line over the limit."""
    *lines, rest = data.split(b"\n")
    out: list[bytes | str] = []
    for line in lines:
        content = line[:-1] if line.endswith(b"\r") else line
        out.append("too long" if len(content) > limit else content)
    if len(rest) > limit + 1 or (len(rest) == limit + 1 and not rest.endswith(b"\r")):
        out.append("too long")
    return out


def check_stream(chunks: list[bytes], limit: int = MAX_FRAME) -> list[bytes | str]:
    """Feed `chunks` to a FrameBuffer, draining after each, and check its promises:
    no frame over the limit, at most limit + 1 bytes kept between feeds (so at most
    that plus one read while a read is handled), and exactly the naive framing,
    which reports each over-long line once."""
    from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer

    buffer = FrameBuffer(limit)
    out: list[bytes | str] = []
    for chunk in chunks:
        buffer.feed(chunk)
        # white box: _buffer is all the memory the buffer holds
        assert len(buffer._buffer) <= limit + 1 + len(chunk), (len(buffer._buffer), limit)
        while (item := buffer.next_frame()) is not NEED_MORE:
            if item is TOO_LONG:
                out.append("too long")
            else:
                assert isinstance(item, bytes) and len(item) <= limit, item
                out.append(item)
            assert len(out) <= len(b"".join(chunks)) + 1, "next_frame() never says NEED_MORE"
        assert buffer.pending() <= limit + 1 and len(buffer._buffer) <= limit + 1
    expected = reference_frames(b"".join(chunks), limit)
    assert out == expected, (out, expected)
    return out


def random_chunks(rng: random.Random, limit: int) -> list[bytes]:
    """A stream of mutated frames, long runs and line ends, cut at random offsets."""
    parts = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.6:
            parts.append(random_line(rng) + rng.choice((b"\n", b"\r\n", b"\n", b"")))
        elif roll < 0.8:
            parts.append(rng.choice((b"y", b"\r", "é".encode(), b"\n")) *
                         rng.randint(1, 2 * limit + 3))
        else:
            parts.append(rng.choice(INTERESTING))
    data = b"".join(parts)
    cuts = sorted(rng.randint(0, len(data)) for _ in range(rng.randint(0, 8)))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]
