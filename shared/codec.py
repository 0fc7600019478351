"""encode(event) -> bytes and decode(line) -> event, both driven by the LAYOUTS table.

Theory of operation: every frame is a two-digit code followed by fixed-width
fields, optionally ending in one field that runs to the end of the line (a text,
or a list of ids). LAYOUTS says, per code, which event it is, who may send it,
and its fields in order; the encoder, the decoder and the tests all read it.
A frame line reaches decode() without its LF (framebuffer.py strips it). It is
matched whole against one regular expression made of the PATTERNS of its fields;
only a line that does not match is read field by field, by the parsers, to say
what is wrong with it.
encode_decoded() formats, from the same table, frames made only of values
decode() has already checked, without checking them again.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from shared import events as ev
from shared.codes import (
    CODE_WIDTH,
    ID_WIDTH,
    MAX_FRAME,
    MAX_TEXT,
    TOKEN_WIDTH,
    TS_WIDTH,
    ErrorCode,
    FrameCode,
)
from shared.errors import LocalProtocolError, RemoteProtocolError
from shared.ids import GROUP_PATTERN, USER_PATTERN, is_group_id, is_user_id


class Side(Enum):
    """Who sends a frame."""

    CLIENT = auto()
    SERVER = auto()


class Kind(Enum):
    """What a field holds; each kind has one width, one parser and one formatter."""

    USER = auto()  # a user id
    GROUP = auto()  # a group id
    PEER = auto()  # a user id or a group id
    TOKEN = auto()  # 32 lowercase hex characters
    TS = auto()  # 10 ASCII digits
    ERROR_CODE = auto()  # 2 ASCII digits
    TEXT = auto()  # message text: the rest of the line, 1..MAX_TEXT code points
    NOTE = auto()  # free text for people (greeting, error reason): the rest of the line
    MEMBERS = auto()  # the rest of the line: zero or more user ids, 13 characters each


@dataclass(frozen=True, slots=True)
class Layout:
    code: FrameCode
    event: type
    sent_by: frozenset[Side]
    fields: tuple[tuple[str, Kind], ...]


_C = frozenset({Side.CLIENT})
_S = frozenset({Side.SERVER})
_BOTH = _C | _S
U, G, P, TOK, TS = Kind.USER, Kind.GROUP, Kind.PEER, Kind.TOKEN, Kind.TS

LAYOUTS: tuple[Layout, ...] = (
    Layout(FrameCode.GREETING, ev.Greeting, _S, (("text", Kind.NOTE),)),
    Layout(FrameCode.REGISTER, ev.Register, _C, ()),
    Layout(FrameCode.REGISTERED, ev.Registered, _S, (("user", U), ("token", TOK))),
    Layout(FrameCode.LOGIN, ev.Login, _C, (("user", U), ("token", TOK))),
    Layout(FrameCode.LOGGED_IN, ev.LoggedIn, _S, (("user", U),)),
    Layout(FrameCode.SEND, ev.Send, _C, (("src", U), ("dst", P), ("ts", TS), ("text", Kind.TEXT))),
    Layout(FrameCode.DELIVER, ev.Deliver, _S,
           (("src", U), ("dst", P), ("ts", TS), ("text", Kind.TEXT))),
    Layout(FrameCode.DELIVERED, ev.Delivered, _S, (("dst", P), ("ts", TS))),
    Layout(FrameCode.READ, ev.Read, _C, (("peer", P), ("ts", TS))),
    Layout(FrameCode.READ_NOTICE, ev.ReadNotice, _S, (("peer", P), ("ts", TS))),
    Layout(FrameCode.CREATE_GROUP, ev.CreateGroup, _C,
           (("creator", U), ("ts", TS), ("members", Kind.MEMBERS))),
    Layout(FrameCode.GROUP_CREATED, ev.GroupCreated, _S,
           (("group", G), ("ts", TS), ("members", Kind.MEMBERS))),
    Layout(FrameCode.RECEIPT, ev.Receipt, _C, (("src", U), ("dst", P), ("ts", TS))),
    Layout(FrameCode.ERROR, ev.Error, _S, (("code", Kind.ERROR_CODE), ("reason", Kind.NOTE))),
    Layout(FrameCode.PING, ev.Ping, _BOTH, ()),
    Layout(FrameCode.PONG, ev.Pong, _BOTH, ()),
    Layout(FrameCode.ACCEPTED, ev.Accepted, _S, (("dst", P), ("ts", TS))),
)
BY_CODE: dict[int, Layout] = {layout.code: layout for layout in LAYOUTS}
BY_EVENT: dict[type, Layout] = {layout.event: layout for layout in LAYOUTS}

WIDTHS = {U: ID_WIDTH, G: ID_WIDTH, P: ID_WIDTH, TOK: TOKEN_WIDTH, TS: TS_WIDTH,
          Kind.ERROR_CODE: 2}
"""Fixed-width kinds; the others run to the end of the line."""

_CONTROL_CHARS = "\x00-\x1f\x7f-\x9f"  # Unicode category Cc, exactly
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
_TOKEN_PATTERN = f"[0-9a-f]{{{TOKEN_WIDTH}}}"
_TOKEN = re.compile(_TOKEN_PATTERN)

PATTERNS: dict[Kind, str] = {
    U: USER_PATTERN, G: GROUP_PATTERN, P: f"(?:{USER_PATTERN}|{GROUP_PATTERN})",
    TOK: _TOKEN_PATTERN, TS: f"[0-9]{{{TS_WIDTH}}}", Kind.ERROR_CODE: "[0-9]{2}",
    Kind.TEXT: f"[^{_CONTROL_CHARS}]{{1,{MAX_TEXT}}}", Kind.NOTE: f"[^{_CONTROL_CHARS}]*",
    Kind.MEMBERS: f"(?:{USER_PATTERN})*",
}
"""Per kind, a regular expression for exactly the values its parser accepts."""


def _malformed(reason: str) -> RemoteProtocolError:
    return RemoteProtocolError(ErrorCode.MALFORMED, reason)


def text_problem(text: str) -> str | None:
    """Why `text` cannot be a message text (PROTOCOL.md, "Text"), or None if it can."""
    if not text:
        return "the text is empty"
    if len(text) > MAX_TEXT:
        return f"the text has {len(text)} characters, at most {MAX_TEXT} are allowed"
    if _CONTROL.search(text):
        return "the text holds a control character"
    return None


def _parse_user(raw: str, name: str) -> str:
    if not is_user_id(raw):
        raise _malformed(f"{name}: {raw!r} is not a user id like Client-000001")
    return raw


def _parse_group(raw: str, name: str) -> str:
    if not is_group_id(raw):
        raise _malformed(f"{name}: {raw!r} is not a group id like Group-0000001")
    return raw


def _parse_peer(raw: str, name: str) -> str:
    if not (is_user_id(raw) or is_group_id(raw)):
        raise _malformed(f"{name}: {raw!r} is not a user or group id")
    return raw


def _parse_token(raw: str, name: str) -> str:
    if not _TOKEN.fullmatch(raw):
        raise _malformed(f"{name}: not 32 lowercase hex characters")
    return raw


def _parse_number(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdigit()):  # for ASCII, isdigit() is exactly [0-9]+
        raise _malformed(f"{name}: {raw!r} is not {len(raw)} digits")
    return int(raw)


def _parse_error_code(raw: str, name: str) -> int:
    number = _parse_number(raw, name)
    try:
        return ErrorCode(number)
    except ValueError:
        return number  # a code newer than this package: keep the number


def _parse_text(raw: str, name: str) -> str:
    problem = text_problem(raw)
    if problem:
        raise RemoteProtocolError(ErrorCode.INVALID_TEXT, problem)
    return raw


def _parse_note(raw: str, name: str) -> str:
    if _CONTROL.search(raw):
        raise _malformed(f"{name}: holds a control character")
    return raw


def _parse_members(raw: str, name: str) -> tuple[str, ...]:
    if len(raw) % ID_WIDTH:
        raise _malformed(f"{name}: length {len(raw)} is not a multiple of {ID_WIDTH}")
    return tuple(_parse_user(raw[i:i + ID_WIDTH], name) for i in range(0, len(raw), ID_WIDTH))


_PARSERS: dict[Kind, Callable[[str, str], Any]] = {
    U: _parse_user, G: _parse_group, P: _parse_peer, TOK: _parse_token, TS: _parse_number,
    Kind.ERROR_CODE: _parse_error_code, Kind.TEXT: _parse_text, Kind.NOTE: _parse_note,
    Kind.MEMBERS: _parse_members,
}


_Fields = tuple[tuple[str, int | None, Callable[[str, str], Any]], ...]
"""Per field: its name, its width (None: to the end of the line), its parser."""
_MADE_BY_PARSER = frozenset({TS, Kind.ERROR_CODE, Kind.MEMBERS})
"""Kinds whose value is not the matched text itself (a number, a tuple)."""
_Made = tuple[tuple[int, str, Callable[[str, str], Any]], ...]
"""Per field of such a kind: its position, its name, its parser."""


def _readers(side: Side) -> dict[str, tuple[type, re.Pattern[str], _Fields, _Made]]:
    """Per code as on the wire ("05"), for frames from `side`: the event, the pattern of
    the rest of the line, its fields, and the fields whose value their parser makes."""
    readers = {}
    for layout in LAYOUTS:
        if side in layout.sent_by:
            fields = tuple((name, WIDTHS.get(kind), _PARSERS[kind])
                           for name, kind in layout.fields)
            pattern = re.compile("".join(f"({PATTERNS[kind]})" for _, kind in layout.fields))
            made = tuple((index, name, _PARSERS[kind])
                         for index, (name, kind) in enumerate(layout.fields)
                         if kind in _MADE_BY_PARSER)
            readers[f"{layout.code:02d}"] = (layout.event, pattern, fields, made)
    return readers


_FROM_CLIENT = _readers(Side.CLIENT)
_FROM_SERVER = _readers(Side.SERVER)


def decode(line: bytes, sender: Side) -> ev.Event:
    """The event in one frame line (without its LF) sent by `sender`.

    Raises RemoteProtocolError, and nothing else, for any line that is not a
    valid frame from that side; its code says what to answer.
    """
    if len(line) > MAX_FRAME:
        raise RemoteProtocolError(ErrorCode.TOO_LONG, f"a frame holds at most {MAX_FRAME} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("the frame is not valid UTF-8") from None
    head = text[:CODE_WIDTH]
    # `is`, not a dict keyed by Side: hashing an Enum member runs Python code
    reader = (_FROM_CLIENT if sender is Side.CLIENT else _FROM_SERVER).get(head)
    if reader is None:
        raise _bad_code(head)
    event, pattern, fields, made = reader
    match = pattern.fullmatch(text, CODE_WIDTH)
    if match is None:  # not a valid frame: the parsers say what is wrong
        return event(*_read_fields(text, head, fields))  # type: ignore[no-any-return]
    values: list[Any] = list(match.groups())
    for index, name, parse in made:
        values[index] = parse(values[index], name)
    return event(*values)  # type: ignore[no-any-return]


def _read_fields(text: str, head: str, fields: _Fields) -> list[Any]:
    """The values of a frame's fields, read one by one: raises what is wrong with them."""
    values = []
    pos = CODE_WIDTH
    size = len(text)
    for name, width, parse in fields:
        end = size if width is None else pos + width
        if end > size:
            raise _malformed(f"frame {head} is too short: {name} is missing")
        values.append(parse(text[pos:end], name))
        pos = end
    if pos != size:
        raise _malformed(f"frame {head} is too long by {size - pos} character(s)")
    return values


def _bad_code(head: str) -> RemoteProtocolError:
    """Why a frame's first two characters name no frame its sender may send."""
    if not (len(head) == CODE_WIDTH and head.isascii() and head.isdigit()):
        return _malformed("a frame starts with a two-digit code")
    layout = BY_CODE.get(int(head))
    if layout is None:
        return _malformed(f"unknown frame code {head}")
    who = "server" if Side.SERVER in layout.sent_by else "client"
    return _malformed(f"frame {head} is sent by the {who} only")


def _number_formatter(width: int) -> Callable[[Any, str], str]:
    limit = 10 ** width
    template = f"%0{width}d"

    def format_number(value: Any, name: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < limit:
            return template % value
        raise LocalProtocolError(f"{name}={value!r} is not a number of {width} digits")

    return format_number


def _text_formatter(parse: Callable[[str, str], Any]) -> Callable[[Any, str], str]:
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


def _format_members(value: Any, name: str) -> str:
    return "".join(_FORMATTERS[U](member, name) for member in value)


_FORMATTERS: dict[Kind, Callable[[Any, str], str]] = {
    kind: _text_formatter(parse) for kind, parse in _PARSERS.items()}
_FORMATTERS.update({TS: _number_formatter(TS_WIDTH), Kind.ERROR_CODE: _number_formatter(2),
                    Kind.MEMBERS: _format_members})
_ENCODERS: dict[type, tuple[str, tuple[tuple[str, Callable[[Any, str], str]], ...]]] = {
    layout.event: (f"{layout.code:02d}",
                   tuple((name, _FORMATTERS[kind]) for name, kind in layout.fields))
    for layout in LAYOUTS}
"""Per event type: its code as text, then each field's name (also its attribute) and formatter."""


def encode(event: ev.Event) -> bytes:
    """The frame for `event`, LF included, as UTF-8 bytes."""
    try:
        code, formatters = _ENCODERS[type(event)]
    except KeyError:
        raise LocalProtocolError(f"not a frame event: {event!r}") from None
    parts = [code]
    for name, format_field in formatters:  # a plain loop: a generator costs more here
        parts.append(format_field(getattr(event, name), name))
    parts.append("\n")
    data = "".join(parts).encode("utf-8")
    if len(data) > MAX_FRAME + 1:
        raise LocalProtocolError(f"the frame would be {len(data) - 1} bytes long")
    return data


_TEMPLATE_PARTS = {TS: f"%0{TS_WIDTH}d", Kind.ERROR_CODE: "%02d"}
_TEMPLATES: dict[type, str] = {
    layout.event: f"{layout.code:02d}" + "".join(
        _TEMPLATE_PARTS.get(kind, "%s") for _, kind in layout.fields) + "\n"
    for layout in LAYOUTS if all(kind is not Kind.MEMBERS for _, kind in layout.fields)}
"""Per event type, its frame as a %-template (a list of members is not one %s: not here)."""


def encode_decoded(event: type, *values: Any) -> bytes:
    """encode(event(*values)) for values that decode() has already checked.

    Each value must be one that decode() returned for a field of the same Kind:
    the server's 06 relays the src, dst, ts and text of a 05, its 16 and 07 echo
    the dst and ts of a 05 or a 12. Such values passed every check encode()
    would make, so they are only formatted, and no event is built (0.3 us a
    frame against 1.2 us for encode() of a 16, 2.0 us of a 06). The length is
    still checked.
    Any other value goes through encode(), which keeps "never send what decode()
    refuses" for everything else.
    """
    try:
        template = _TEMPLATES[event]
    except KeyError:
        raise LocalProtocolError(f"{event!r} cannot be encoded from decoded values") from None
    data = (template % values).encode("utf-8")
    if len(data) > MAX_FRAME + 1:
        raise LocalProtocolError(f"the frame would be {len(data) - 1} bytes long")
    return data


def code_of(event: ev.Event) -> FrameCode:
    """The frame code that carries `event`."""
    return BY_EVENT[type(event)].code
