"""PROTOCOL.md's examples of 31 and 32 (sections 3, 6.6) are frames the codec reads, byte for
byte, and each example's stated length is its length."""

import re
from pathlib import Path

import pytest

from shared import codec
from shared import events as ev
from shared.codec import Side

PROTOCOL = (Path(__file__).resolve().parents[2] / "PROTOCOL.md").read_text(encoding="utf-8")
EXAMPLES = sorted(set(re.findall(r"^(?:\(\d+\)\s+)?(3[12]Client-.*?)\\n", PROTOCOL, re.M)))


def test_protocol_acts_has_examples() -> None:
    """Both frames and every kind appear in the examples."""
    assert {line[:2] for line in EXAMPLES} == {"31", "32"}
    assert {line[38] for line in EXAMPLES} == {"R", "E", "D", "X"}


@pytest.mark.parametrize("line", EXAMPLES)
def test_protocol_acts_example_decodes(line: str) -> None:
    """Each example is a valid frame from its side, and encodes back to the same bytes."""
    side = Side.CLIENT if line.startswith("31") else Side.SERVER
    event = codec.decode(line.encode(), side)
    assert isinstance(event, ev.Act | ev.Acted)
    assert codec.encode(event) == line.encode() + b"\n"


def test_protocol_acts_stated_lengths() -> None:
    """The byte counts given for the first 31 and its no-text kinds are right."""
    assert len(b"31Client-000002Client-0000011732500060RClient-0000011732500000yes!\n") == 67
    assert len("31Client-000002Client-0000011732500063XClient-0000011732500000👍\n".encode()) == 67
    assert "31Client-000002Client-0000011732500060RClient-0000011732500000yes!\\n" in PROTOCOL
    assert "67 bytes" in PROTOCOL and "63 bytes" in PROTOCOL
