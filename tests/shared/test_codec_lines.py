"""The codec and a text of several lines: U+2028 is a character, CR and LF are refused.

The example is PROTOCOL.md's ("Text"), byte for byte.
"""

import pytest

from shared import codec
from shared import events as ev
from shared.codec import Side, text_problem
from shared.codes import MAX_TEXT, ErrorCode
from shared.errors import LocalProtocolError, RemoteProtocolError

A, B = "Client-000001", "Client-000002"
FRAME = b"05Client-000001Client-0000021732500400hi\xe2\x80\xa8there\n"


def test_line_separator_encodes_as_three_bytes() -> None:
    sent = ev.Send(A, B, 1732500400, "hi\u2028there")
    assert codec.encode(sent) == FRAME
    assert len(FRAME) == 49
    assert codec.decode(FRAME[:-1], Side.CLIENT) == sent


@pytest.mark.parametrize("text", ["hi\nthere", "hi\rthere", "hi\r\nthere", "hi\x85there"])
def test_other_line_endings_are_control_characters(text: str) -> None:
    assert text_problem(text) == "the text holds a control character"
    with pytest.raises(LocalProtocolError):
        codec.encode(ev.Send(A, B, 1732500400, text))
    with pytest.raises(RemoteProtocolError) as refused:
        codec.decode(b"05" + (A + B + "1732500400" + text).encode(), Side.CLIENT)
    assert refused.value.code in (ErrorCode.INVALID_TEXT, ErrorCode.MALFORMED)


def test_a_break_counts_as_one_code_point() -> None:
    assert text_problem("\u2028" * MAX_TEXT) is None
    assert text_problem("\u2029" * MAX_TEXT) is None
    assert text_problem("\u2028" * (MAX_TEXT + 1)) is not None
