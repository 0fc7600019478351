"""The kinds of field frames are made of (PROTOCOL.md, "Frames" and "Text").

Per kind: its width, a pattern for its valid values, its parser and its
formatter. Knows one field at a time: nothing of frame codes, layouts, events or
sides (codec.py puts fields together into frames), nothing of what a server or a
client does with a value.

Theory of operation: the value of each Kind member is a KindSpec saying all the
codec needs to read and write that field. decode() matches a whole frame with
one regular expression joined from the patterns of its fields, and calls a
parser only on a frame that does not match (to say what is wrong); a matched
field whose value is not its text (a number, a tuple) is made by the kind's
converter, unchecked. So a kind's pattern accepts exactly the texts its parser
accepts (tests/shared/test_codec_properties.py checks every kind).

Adding a kind is one change, here: a parser, and one Kind member built with
_text_kind() or _number_kind() from a width (None: to the end of the line), a
pattern and that parser. A display name of 1 to 32 characters without control
characters, say, would be `NAME = _text_kind(None, f"[^{_CONTROL_CHARS}]{{1,32}}",
_parse_name)`. LAYOUTS rows in codec.py may then use it; the property tests ask
for a strategy of valid values per kind (FIELD_VALUES in
tests/shared/test_codec_properties.py) and fail until it has one.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, unique
from typing import Any

from shared.codes import (
    ID_WIDTH,
    INVITE_ALPHABET,
    INVITE_WIDTH,
    MAX_NAME,
    MAX_TEXT,
    TOKEN_WIDTH,
    TS_WIDTH,
    ActKind,
    ErrorCode,
    GroupOp,
)
from shared.errors import LocalProtocolError, RemoteProtocolError, malformed
from shared.ids import GROUP_PATTERN, USER_PATTERN, is_group_id, is_user_id

Parser = Callable[[str, str], Any]
"""(a field's text, its name) -> its value; raises RemoteProtocolError for a bad text."""
Converter = Callable[[str], Any]
"""A text its kind's pattern matched -> its value (a number, a tuple), without checks."""
Formatter = Callable[[Any, str], str]
"""(a field's value, its name) -> its text in a frame; raises LocalProtocolError for a bad value."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    """Everything the codec needs to read and write one kind of field."""

    width: int | None
    """Characters the field takes; None: it runs to the end of the line (and comes last)."""
    pattern: str
    """A regular expression, without groups or anchors, for exactly the texts `parse` accepts."""
    parse: Parser
    format: Formatter
    template: str | None
    """The field's part of a %-template filled with a value decode() returned;
    None: no single % conversion writes it."""
    convert: Converter | None
    """What decode() makes of a text `pattern` matched, which needs no more checks (`int`
    for a number); None: the value is the text itself."""


_CONTROL_CHARS = "\x00-\x1f\x7f-\x9f"  # Unicode category Cc, exactly
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
_TOKEN_PATTERN = f"[0-9a-f]{{{TOKEN_WIDTH}}}"
_TOKEN = re.compile(_TOKEN_PATTERN)
_INVITE_PATTERN = f"[{INVITE_ALPHABET}]{{{INVITE_WIDTH}}}"
_INVITE = re.compile(_INVITE_PATTERN)


def _problem(value: str, limit: int, what: str) -> str | None:
    """Why `value` is not 1 to `limit` code points without a control character, if it is not."""
    if not value:
        return f"the {what} is empty"
    if len(value) > limit:
        return f"the {what} has {len(value)} characters, at most {limit} are allowed"
    if _CONTROL.search(value):
        return f"the {what} holds a control character"
    return None


def text_problem(text: str) -> str | None:
    """Why `text` cannot be a message text (PROTOCOL.md, "Text"), or None if it can."""
    return _problem(text, MAX_TEXT, "text")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a display or group name (PROTOCOL.md 5.9), or None if it can.

    The codec checks the length and control characters; that a name does not
    look like an id is the rules' check (13/24) and the client's."""
    if is_user_id(name) or is_group_id(name):
        return "a name cannot look like an id"
    return _problem(name, MAX_NAME, "name")


def _parse_name(raw: str, name: str) -> str:
    if not raw or len(raw) > MAX_NAME or _CONTROL.search(raw):
        raise RemoteProtocolError(
            ErrorCode.INVALID_NAME,
            f"{name}: a name has 1 to {MAX_NAME} characters and no control character")
    return raw


def _parse_arg(raw: str, name: str) -> str:
    if _CONTROL.search(raw):  # a group name's, as for a 21 (a user id never has one)
        raise RemoteProtocolError(ErrorCode.INVALID_NAME, f"{name}: holds a control character")
    return raw


_OPS = "".join(op.value for op in GroupOp)


def _parse_op(raw: str, name: str) -> str:
    if len(raw) != 1 or raw not in _OPS:
        raise malformed(f"{name}: {raw!r} is not one of {_OPS}")
    return raw


def _parse_user(raw: str, name: str) -> str:
    if not is_user_id(raw):
        raise malformed(f"{name}: {raw!r} is not a user id like Client-000001")
    return raw


def _parse_group(raw: str, name: str) -> str:
    if not is_group_id(raw):
        raise malformed(f"{name}: {raw!r} is not a group id like Group-0000001")
    return raw


def _parse_peer(raw: str, name: str) -> str:
    if not (is_user_id(raw) or is_group_id(raw)):
        raise malformed(f"{name}: {raw!r} is not a user or group id")
    return raw


def _parse_token(raw: str, name: str) -> str:
    if not _TOKEN.fullmatch(raw):
        raise malformed(f"{name}: not 32 lowercase hex characters")
    return raw


def _parse_invite(raw: str, name: str) -> str:
    if not _INVITE.fullmatch(raw):
        raise malformed(f"{name}: not {INVITE_WIDTH} characters of {INVITE_ALPHABET}")
    return raw


def _parse_number(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdigit()):  # for ASCII, isdigit() is exactly [0-9]+
        raise malformed(f"{name}: {raw!r} is not {len(raw)} digits")
    return int(raw)


def _error_code(raw: str) -> int:
    number = int(raw)
    try:
        return ErrorCode(number)
    except ValueError:
        return number  # a code newer than this package: keep the number


def _parse_error_code(raw: str, name: str) -> int:
    _parse_number(raw, name)
    return _error_code(raw)


def _parse_text(raw: str, name: str) -> str:
    problem = text_problem(raw)
    if problem:
        raise RemoteProtocolError(ErrorCode.INVALID_TEXT, problem)
    return raw


def _parse_act_text(raw: str, name: str) -> str:
    return _parse_text(raw, name) if raw else raw


_ACT_KINDS = "".join(kind.value for kind in ActKind)


def _parse_act_kind(raw: str, name: str) -> str:
    if len(raw) != 1 or raw not in _ACT_KINDS:
        raise malformed(f"{name}: {raw!r} is not one of the letters {_ACT_KINDS}")
    return raw


def _parse_note(raw: str, name: str) -> str:
    if _CONTROL.search(raw):
        raise malformed(f"{name}: holds a control character")
    return raw


def _parse_members(raw: str, name: str) -> tuple[str, ...]:
    if len(raw) % ID_WIDTH:
        raise malformed(f"{name}: length {len(raw)} is not a multiple of {ID_WIDTH}")
    return tuple(_parse_user(raw[i:i + ID_WIDTH], name) for i in range(0, len(raw), ID_WIDTH))


def _parse_flag(raw: str, name: str) -> int:
    if raw not in ("0", "1"):
        raise malformed(f"{name}: {raw!r} is not 0 or 1")
    return int(raw)


def _format_flag(value: Any, name: str) -> str:
    if value in (0, 1) and not isinstance(value, bool | float):
        return str(value)
    raise LocalProtocolError(f"{name}={value!r} is not 0 or 1")


_RECEIPT_WIDTH = ID_WIDTH + 2 * TS_WIDTH
"""One member's part of a RECEIPTS field: the id, when delivered, when read."""


def _parse_receipts(raw: str, name: str) -> tuple[tuple[str, int, int], ...]:
    if len(raw) % _RECEIPT_WIDTH:
        raise malformed(f"{name}: length {len(raw)} is not a multiple of {_RECEIPT_WIDTH}")
    states = []
    for start in range(0, len(raw), _RECEIPT_WIDTH):
        part = raw[start:start + _RECEIPT_WIDTH]
        member = _parse_user(part[:ID_WIDTH], name)
        delivered = _parse_number(part[ID_WIDTH:ID_WIDTH + TS_WIDTH], name)
        states.append((member, delivered, _parse_number(part[ID_WIDTH + TS_WIDTH:], name)))
    return tuple(states)


def _format_receipts(value: Any, name: str) -> str:
    parts = []
    for state in value:
        if not (isinstance(state, tuple) and len(state) == 3):
            raise LocalProtocolError(f"{name}: {state!r} is not (member, delivered, read)")
        member, delivered, read = state
        parts.append(_USER.format(member, name) + _TS.format(delivered, name)
                     + _TS.format(read, name))
    return "".join(parts)


def _text_formatter(parse: Parser) -> Formatter:
    """Format by checking with the decoder's own parser: never send what decode() refuses."""

    def format_text(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise LocalProtocolError(f"{name}={value!r} is not text")
        try:
            parse(value, name)
        except RemoteProtocolError as error:
            raise LocalProtocolError(f"cannot encode {name}: {error.reason}") from None
        return value

    return format_text


def _text_kind(width: int | None, pattern: str, parse: Parser) -> KindSpec:
    """A kind whose value is its text, as matched."""
    return KindSpec(width, pattern, parse, _text_formatter(parse), "%s", None)


def _matched(parse: Parser) -> Converter:
    """`parse` for a text its kind's pattern matched: it raises nothing, so needs no name."""
    return lambda raw: parse(raw, "")


def _number_kind(width: int, parse: Parser, convert: Converter = int) -> KindSpec:
    """A kind written as exactly `width` ASCII digits; `parse` and `convert` make the number."""
    limit = 10 ** width
    template = f"%0{width}d"

    def format_number(value: Any, name: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < limit:
            return template % value
        raise LocalProtocolError(f"{name}={value!r} is not a number of {width} digits")

    return KindSpec(width, f"[0-9]{{{width}}}", parse, format_number, template, convert)


_USER = _text_kind(ID_WIDTH, USER_PATTERN, _parse_user)


_TS = _number_kind(TS_WIDTH, _parse_number)


def _format_members(value: Any, name: str) -> str:
    return "".join(_USER.format(member, name) for member in value)


@unique  # two kinds with equal specs would silently be one member
class Kind(Enum):
    """What a field holds; each kind has one width, one pattern, one parser and one formatter."""

    _value_: KindSpec

    USER = _USER  # a user id
    GROUP = _text_kind(ID_WIDTH, GROUP_PATTERN, _parse_group)  # a group id
    PEER = _text_kind(  # a user id or a group id
        ID_WIDTH, f"(?:{USER_PATTERN}|{GROUP_PATTERN})", _parse_peer)
    TOKEN = _text_kind(TOKEN_WIDTH, _TOKEN_PATTERN, _parse_token)  # 32 lowercase hex characters
    INVITE = _text_kind(  # an invite code: 16 characters of INVITE_ALPHABET
        INVITE_WIDTH, _INVITE_PATTERN, _parse_invite)
    TS = _TS  # 10 ASCII digits
    ERROR_CODE = _number_kind(2, _parse_error_code, _error_code)  # 2 ASCII digits
    TEXT = _text_kind(  # message text: the rest of the line, 1..MAX_TEXT code points
        None, f"[^{_CONTROL_CHARS}]{{1,{MAX_TEXT}}}", _parse_text)
    ACT_KIND = _text_kind(1, f"[{_ACT_KINDS}]", _parse_act_kind)  # a 31's kind letter
    ACT_TEXT = _text_kind(  # a 31's text: as TEXT, or empty (a deletion, a reaction taken back)
        None, f"[^{_CONTROL_CHARS}]{{0,{MAX_TEXT}}}", _parse_act_text)
    NOTE = _text_kind(  # free text for people (greeting, error reason): the rest of the line
        None, f"[^{_CONTROL_CHARS}]*", _parse_note)
    NAME = _text_kind(  # a display or group name: the rest of the line, 1..MAX_NAME
        None, f"[^{_CONTROL_CHARS}]{{1,{MAX_NAME}}}", _parse_name)
    OP = _text_kind(1, f"[{_OPS}]", _parse_op)  # a group change's op (GroupOp)
    ARG = _text_kind(  # a group change's arg: a name, an id or nothing; the rest of the line
        None, f"[^{_CONTROL_CHARS}]*", _parse_arg)
    MEMBERS = KindSpec(  # the rest of the line: zero or more user ids, 13 characters each
        None, f"(?:{USER_PATTERN})*", _parse_members, _format_members, None,
        _matched(_parse_members))
    FLAG = KindSpec(1, "[01]", _parse_flag, _format_flag, "%d", int)  # 0 or 1
    RECEIPTS = KindSpec(  # the rest of the line: per member its id, delivered and read times
        None, f"(?:{USER_PATTERN}[0-9]{{{2 * TS_WIDTH}}})*", _parse_receipts, _format_receipts,
        None, _matched(_parse_receipts))
