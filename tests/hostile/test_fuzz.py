"""Byte-level fuzzing (hypothesis, small sizes) of shared.codec.decode and FrameBuffer.

Extends tests/shared/test_codec_properties.py, which decodes plain random bytes
and frames a five-symbol alphabet: here the inputs are valid frames with edits
(mutations.py), arbitrary bytes at limits from 1 to the real 1024, and the
memory bound is checked after every feed. soak/fuzz.py runs the same checks
over a million inputs.
"""

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hostile.mutations import INTERESTING, SEEDS, check_decode, check_stream, mutate
from shared.codec import Side
from shared.codes import MAX_FRAME

EDIT = st.tuples(st.integers(0, 300), st.integers(0, 6),
                 st.sampled_from(INTERESTING) | st.binary(max_size=6))
"""(where, how many bytes to remove, what to put there)."""


def edited(seed: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for at, remove, insert in edits:
        at = min(at, len(data))
        data[at:at + remove] = insert
    return bytes(data)


@settings(max_examples=500)
@given(st.sampled_from(SEEDS), st.lists(EDIT, min_size=1, max_size=4), st.sampled_from(Side))
def test_decode_edited_frame_raises_only_remote_errors(seed: bytes, edits: list,
                                                       side: Side) -> None:
    """A valid frame with edits decodes to an event that encodes back to the same bytes,
    or raises RemoteProtocolError with an error code; nothing else escapes."""
    check_decode(edited(seed, edits), side)


@settings(max_examples=300)
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False), st.sampled_from(Side))
def test_decode_mutated_frame_raises_only_remote_errors(seed: bytes, rng: random.Random,
                                                        side: Side) -> None:
    """The soak's mutation operators, at small sizes: only RemoteProtocolError escapes."""
    check_decode(mutate(rng, seed), side)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=24) | st.sampled_from([b"\n", b"\r\n", b"\r", b"y" * 30]),
                max_size=30),
       st.integers(1, 24))
def test_framebuffer_any_bytes_frames_naively_within_bounds(chunks: list[bytes],
                                                            limit: int) -> None:
    """Arbitrary bytes in arbitrary reads: frames within the limit, memory within limit + 1
    plus one read, and each over-long line reported exactly once."""
    check_stream(chunks, limit)


RUN = st.tuples(st.sampled_from([b"y", b"\r", b"\n", b"\r\n", "é".encode(), b"\x00"]),
                st.integers(1, 1200)).map(lambda pair: pair[0] * pair[1])


@settings(max_examples=150)
@given(st.lists(RUN | st.sampled_from(SEEDS), max_size=8).map(b"".join),
       st.lists(st.integers(0, 5000), max_size=6))
def test_framebuffer_real_limit_long_runs_within_bounds(data: bytes, cuts: list[int]) -> None:
    """At the real 1024-byte limit, lines around and far over it, cut anywhere."""
    edges = [0, *sorted(min(cut, len(data)) for cut in cuts), len(data)]
    check_stream([data[a:b] for a, b in itertools.pairwise(edges)], MAX_FRAME)
