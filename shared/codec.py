"""encode(event) -> bytes and decode(line) -> event, both driven by the LAYOUTS table.

Theory of operation: every frame is a two-digit code followed by fixed-width
fields, optionally ending in one field that runs to the end of the line (a text,
or a list of ids). LAYOUTS says, per code, which event it is, who may send it,
and its fields in order; the encoder, the decoder and the tests all read it.
A frame line reaches decode() without its LF (framebuffer.py strips it). It is
matched whole against one regular expression made of the patterns of its fields;
only a line that does not match is read field by field, by the parsers, to say
what is wrong with it. What each kind of field is, how wide, and how it is read
and written, is in fields.py; this module only puts fields together into frames.
encode_decoded() formats, from the same table, frames made only of values
decode() has already checked, without checking them again; relay_as_deliver()
turns a 05 line decode() accepted into its 06 without decoding it again
(relay_as_acted: a 31 into its 32), accepted_for() and delivered_for() a 05 into
its 16 and a 12 into its 07.
"""

import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from shared import events as ev
from shared.codes import CODE_WIDTH, ID_WIDTH, MAX_FRAME, TS_WIDTH, ErrorCode, FrameCode
from shared.errors import LocalProtocolError, RemoteProtocolError, malformed
from shared.fields import Converter, Formatter, Kind, Parser
from shared.fields import name_problem as name_problem  # re-exported: the client checks names
from shared.fields import text_problem as text_problem  # re-exported: the client checks typed texts


class Side(Enum):
    """Who sends a frame."""

    CLIENT = auto()
    SERVER = auto()


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

_ACT_FIELDS = (("src", U), ("dst", P), ("ts", TS), ("kind", Kind.ACT_KIND), ("ref_src", U),
               ("ref_ts", TS), ("text", Kind.ACT_TEXT))
"""31 and 32: one layout, so the server relays a 31 as its 32 (relay_as_acted)."""

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
    Layout(FrameCode.BLOCK, ev.Block, _C, (("user", U),)),
    Layout(FrameCode.UNBLOCK, ev.Unblock, _C, (("user", U),)),
    Layout(FrameCode.BLOCK_LIST, ev.BlockList, _S, (("users", Kind.MEMBERS),)),
    Layout(FrameCode.REGISTER_INVITE, ev.RegisterInvite, _C, (("code", Kind.INVITE),)),
    Layout(FrameCode.SET_NAME, ev.SetName, _C, (("name", Kind.NAME),)),
    Layout(FrameCode.NAME, ev.Name, _S, (("user", U), ("name", Kind.NAME))),
    Layout(FrameCode.GROUP_CHANGE, ev.GroupChange, _C,
           (("group", G), ("ts", TS), ("op", Kind.OP), ("arg", Kind.ARG))),
    Layout(FrameCode.GROUP_EVENT, ev.GroupEvent, _S,
           (("group", G), ("ts", TS), ("actor", U), ("op", Kind.OP), ("arg", Kind.ARG))),
    Layout(FrameCode.INFO, ev.Info, _C, (("group", G), ("ts", TS))),
    Layout(FrameCode.INFO_ANSWER, ev.InfoAnswer, _S,
           (("group", G), ("ts", TS), ("states", Kind.RECEIPTS))),
    Layout(FrameCode.TYPING, ev.Typing, _BOTH, (("src", U), ("dst", P))),
    Layout(FrameCode.PRIVACY, ev.Privacy, _C, (("hidden", Kind.FLAG),)),
    Layout(FrameCode.PRESENCE_ASK, ev.PresenceAsk, _C, (("user", U),)),
    Layout(FrameCode.PRESENCE, ev.Presence, _S, (("user", U), ("ts", TS))),
    Layout(FrameCode.ACT, ev.Act, _C, _ACT_FIELDS),
    Layout(FrameCode.ACTED, ev.Acted, _S, _ACT_FIELDS),
)
BY_CODE: dict[int, Layout] = {layout.code: layout for layout in LAYOUTS}
BY_EVENT: dict[type, Layout] = {layout.event: layout for layout in LAYOUTS}

_Fields = tuple[tuple[str, int | None, Parser], ...]
"""Per field: its name, its width (None: to the end of the line), its parser."""
_Made = tuple[tuple[int, Converter], ...]
"""Per field whose value is not its text (a number, a tuple): its position, its converter."""


def _readers(side: Side) -> dict[str, tuple[type, re.Pattern[str], _Fields, _Made]]:
    """Per code as on the wire ("05"), for frames from `side`: the event, the pattern of
    the rest of the line, its fields, and the fields whose value a converter makes."""
    readers = {}
    for layout in LAYOUTS:
        if side in layout.sent_by:
            specs = [(name, kind.value) for name, kind in layout.fields]
            fields = tuple((name, spec.width, spec.parse) for name, spec in specs)
            pattern = re.compile("".join(f"({spec.pattern})" for _, spec in specs))
            made = tuple((index, spec.convert)
                         for index, (_, spec) in enumerate(specs) if spec.convert is not None)
            readers[f"{layout.code:02d}"] = (layout.event, pattern, fields, made)
    return readers


_FROM_CLIENT = _readers(Side.CLIENT)
_FROM_SERVER = _readers(Side.SERVER)
CLIENT = Side.CLIENT
"""Side.CLIENT as a global, for code that names it once a frame: reading a member from
its Enum class goes through the metaclass (0.08 us against 0.03)."""


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
        raise malformed("the frame is not valid UTF-8") from None
    head = text[:CODE_WIDTH]
    # `is`, not a dict keyed by Side: hashing an Enum member runs Python code
    reader = (_FROM_CLIENT if sender is CLIENT else _FROM_SERVER).get(head)
    if reader is None:
        raise _bad_code(head)
    event, pattern, fields, made = reader
    match = pattern.fullmatch(text, CODE_WIDTH)
    if match is None:  # not a valid frame: the parsers say what is wrong
        return event(*_read_fields(text, head, fields))  # type: ignore[no-any-return]
    values: list[Any] = list(match.groups())
    for index, convert in made:
        values[index] = convert(values[index])
    return event(*values)  # type: ignore[no-any-return]


def _read_fields(text: str, head: str, fields: _Fields) -> list[Any]:
    """The values of a frame's fields, read one by one: raises what is wrong with them."""
    values = []
    pos = CODE_WIDTH
    size = len(text)
    for name, width, parse in fields:
        end = size if width is None else pos + width
        if end > size:
            raise malformed(f"frame {head} is too short: {name} is missing")
        values.append(parse(text[pos:end], name))
        pos = end
    if pos != size:
        raise malformed(f"frame {head} is too long by {size - pos} character(s)")
    return values


def _bad_code(head: str) -> RemoteProtocolError:
    """Why a frame's first two characters name no frame its sender may send."""
    if not (len(head) == CODE_WIDTH and head.isascii() and head.isdigit()):
        return malformed("a frame starts with a two-digit code")
    layout = BY_CODE.get(int(head))
    if layout is None:
        return malformed(f"unknown frame code {head}")
    who = "server" if Side.SERVER in layout.sent_by else "client"
    return malformed(f"frame {head} is sent by the {who} only")


_ENCODERS: dict[type, tuple[str, tuple[tuple[str, Formatter], ...]]] = {
    layout.event: (f"{layout.code:02d}",
                   tuple((name, kind.value.format) for name, kind in layout.fields))
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


def _template(layout: Layout) -> str | None:
    """The layout's frame as a %-template; None if a field is not one % (a list of members)."""
    parts = [f"{layout.code:02d}"]
    for _, kind in layout.fields:
        if kind.value.template is None:
            return None
        parts.append(kind.value.template)
    return "".join(parts) + "\n"


_TEMPLATES: dict[type, str] = {
    layout.event: template for layout in LAYOUTS if (template := _template(layout)) is not None}
"""Per event type that has one, its frame as a %-template."""


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


if BY_CODE[FrameCode.SEND].fields != BY_CODE[FrameCode.DELIVER].fields:
    raise LocalProtocolError("relay_as_deliver() needs the 05 and the 06 to have one layout")
_DELIVER = b"%02d" % FrameCode.DELIVER


def relay_as_deliver(line: bytes) -> bytes:
    """The 06 relaying the 05 `line` (without its LF) that decode() accepted, LF included.

    The two frames have the same fields (checked above) and the same size limit,
    so the 06 is the 05 with its code replaced: the same as encode_decoded() of
    the decoded 05's fields, without formatting them again (0.2 us against 0.9).
    """
    return b"".join((_DELIVER, line[CODE_WIDTH:], b"\n"))


_ACTED = b"%02d" % FrameCode.ACTED


def relay_as_acted(line: bytes) -> bytes:
    """The 32 relaying the 31 `line` (without its LF) that decode() accepted, LF included:
    the two frames share one layout (_ACT_FIELDS), so only the code changes."""
    return b"".join((_ACTED, line[CODE_WIDTH:], b"\n"))


_KEY = (("src", U), ("dst", P), ("ts", TS))
"""A message's key, as the 05 and the 12 begin; the 16 and the 07 are its dst and ts."""
if (BY_CODE[FrameCode.SEND].fields[:3] != _KEY or BY_CODE[FrameCode.RECEIPT].fields != _KEY
        or BY_CODE[FrameCode.ACCEPTED].fields != _KEY[1:]
        or BY_CODE[FrameCode.DELIVERED].fields != _KEY[1:]):
    raise LocalProtocolError("accepted_for() and delivered_for() need the layouts of a key")
_DST_TS = slice(CODE_WIDTH + ID_WIDTH, CODE_WIDTH + 2 * ID_WIDTH + TS_WIDTH)
_ACCEPTED = b"%02d" % FrameCode.ACCEPTED
_DELIVERED = b"%02d" % FrameCode.DELIVERED


def accepted_for(line: bytes) -> bytes:
    """The 16 answering the 05 `line` (without its LF) that decode() accepted, LF included:
    the 05's dst and ts as they came, which is what encode_decoded() makes of their decoded
    values (checked above), without formatting them again (0.2 us against 0.9)."""
    return b"".join((_ACCEPTED, line[_DST_TS], b"\n"))


def delivered_for(line: bytes) -> bytes:
    """The 07 of the 12 `line` (without its LF) that decode() accepted, LF included, as
    accepted_for() makes a 16: the 12's dst and ts."""
    return b"".join((_DELIVERED, line[_DST_TS], b"\n"))
