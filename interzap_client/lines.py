"""Line breaks in a message: U+2028 on the wire and in the journal, LF for people and JSON.

A frame holds no control character (PROTOCOL.md, "Text"), so a message of
several lines travels with U+2028 LINE SEPARATOR between them: a format
character, one code point, three UTF-8 bytes E2 80 A8. The client turns every
line ending it is given (LF, CR LF, CR, and U+2029 PARAGRAPH SEPARATOR) into
U+2028 before a text is checked and journaled, shows U+2028 and U+2029 as line
breaks, and writes LF wherever a person or a JSON reader gets the text.
Refuses to know how a line is drawn.
"""

from __future__ import annotations

import re

LINE_BREAK = "\u2028"
"""The one line break a message text holds on the wire."""
BREAKS = "\u2028\u2029"
"""What the client shows as a line break in a received text."""

_ENDINGS = re.compile("\r\n|[\r\n\u2029]")
_ESCAPES = re.compile(r"\\(.)")


def to_wire(text: str) -> str:
    """`text` with each line ending as U+2028 (typed, pasted or from a file)."""
    return _ENDINGS.sub(LINE_BREAK, text)


def split_lines(text: str) -> list[str]:
    """The lines of a message text, as shown (at least one)."""
    return re.split(f"[{BREAKS}]", text)


def for_people(text: str) -> str:
    """`text` with LF between its lines: for a terminal, a JSON string, the export."""
    return "\n".join(split_lines(text))


def unescape(text: str) -> str:
    r"""/ml's text: `\n` is a line break, `\\` a backslash, any other `\x` stays as typed."""
    return _ESCAPES.sub(lambda m: LINE_BREAK if m[1] == "n" else "\\" if m[1] == "\\"
                        else m[0], text)
