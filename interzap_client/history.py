"""Durable history: an append-only JSON Lines journal of State changes, and the export.

Theory of operation: every change to a State is one call of one of its
mutation methods (msg, tick, read, seen, late, group, create, drop_create, alias,
stamp, blocks, act). History.apply() makes that call and, only if the state changed,
appends `{"t": <method>, <arguments>...}` as one line. At start-up the lines
are replayed through the same methods, so disk and memory cannot disagree.
Storing a message costs one short append (plus fsync when it must survive a
crash: a received message before its 12). When the journal holds much more
than the state it describes, it is rewritten as a snapshot into a temporary
file that replaces the journal by an atomic rename: the cost stays amortised
constant per message and a crash leaves either the old or the new file.

A deletion (an "act" of kind D) is journaled like any change, and replaying it
empties the message's text; since the earlier "msg" line still holds the
text, the journal is compacted at once after a deletion takes effect, so the
text leaves the file too (the snapshot writes the emptied message).

A damaged line (a kill in the middle of a write leaves a truncated last line)
is skipped, copied to history.jsonl.damaged, reported, and the journal is
rewritten without it: never a crash, nothing valid thrown away.
Refuses to know about the network and the user interface.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from interzap_client.conversations import Tick
from interzap_client.lines import for_people
from interzap_client.message_acts import shown_text
from interzap_client.profile import lock_account, write_private
from interzap_client.state import State

JOURNAL = "history.jsonl"
RECORD_TYPES = frozenset(
    {"msg", "tick", "read", "seen", "late", "group", "create", "drop_create", "alias", "stamp",
     "blocks", "named", "want_name", "change", "drop_change", "group_event", "group_info",
     "notes", "act"}
)
COMPACT_SLACK = 256
"""Extra lines tolerated beyond twice the snapshot size before compacting."""

Record = dict[str, Any]
"""One journal line: {"t": <State method>, <its arguments>...}."""


def _line(record: Record) -> bytes:
    # json escapes every control character, so a record is always exactly one line
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def replay(state: State, record: Any) -> bool:
    """Apply one journal record to `state`; ValueError if it is not a valid record."""
    if not isinstance(record, dict):
        raise ValueError("a record is a JSON object")
    fields = dict(record)
    kind = fields.pop("t", None)
    if kind not in RECORD_TYPES:
        raise ValueError(f"unknown record type {kind!r}")
    try:
        return bool(getattr(state, kind)(**fields))
    except (TypeError, KeyError) as exc:
        raise ValueError(f"bad {kind} record: {exc}") from None


class History:
    """The journal of one account, kept open for appending.

    A writer holds the account's lock (profile.lock_account) until close(): two
    clients appending to one journal, each compacting away the other's lines,
    would lose messages. `readonly` (the export subcommand) takes no lock and
    changes nothing on disk, so it can run beside a client.
    """

    def __init__(self, folder: Path, state: State, readonly: bool = False) -> None:
        self.folder = folder
        self.path = folder / JOURNAL
        self.state = state
        self.readonly = readonly
        self.warnings: list[str] = []
        self.watchers: list[Callable[[Record], None]] = []  # told of each record applied
        self._lines = 0
        self._file: BinaryIO | None = None
        self._lock = None if readonly else lock_account(folder)
        try:
            self._load()
            self._file = None if readonly else self._open()
        except BaseException:
            self.close()
            raise

    # ---- reading ----------------------------------------------------------

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        *lines, tail = data.split(b"\n")
        damaged: list[bytes] = []
        for number, raw in enumerate(lines, 1):
            try:
                replay(self.state, json.loads(raw))
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError too
                damaged.append(raw)
                self.warnings.append(f"history line {number} is damaged ({exc}); skipped it")
            else:
                self._lines += 1
        if tail:  # no LF at the end: a write was cut short
            damaged.append(tail)
            self.warnings.append(
                f"history line {len(lines) + 1} was cut short (the client was stopped while "
                f"writing); kept the {self._lines} records before it"
            )
        if damaged and not self.readonly:
            with open(self.path.with_name(JOURNAL + ".damaged"), "ab") as keep:
                keep.write(b"\n".join(damaged) + b"\n")
            self.compact()  # rewrite without the bad lines before appending after them
        elif self._lines > self._limit() and not self.readonly:
            self.compact()

    # ---- writing ----------------------------------------------------------

    def apply(self, kind: str, /, durable: bool = False, **fields: Any) -> bool:
        """Change the state by `kind(**fields)` and journal it if it changed anything.

        `durable` waits for the disk (fsync): use it when something is promised
        to the outside world afterwards (a 12 for a received message, an outbox entry).
        """
        if self._file is None:
            raise OSError(f"{self.path} is open read-only")
        record = {"t": kind, **fields}
        erased = self.state.erased
        if not replay(self.state, record):
            return False
        for watch in self.watchers:
            watch(record)
        self._file.write(_line(record))
        self._file.flush()
        if durable:
            os.fsync(self._file.fileno())
        self._lines += 1
        if self._lines > self._limit() or self.state.erased != erased:
            self.compact()  # after a deletion: its text leaves the file at once
        return True

    def _limit(self) -> int:
        # an upper bound of len(snapshot(state)), counted in O(1) so appends stay cheap
        state = self.state
        people = state.people
        live = (len(state.messages) + len(state.acts) + len(state.contacts) + len(state.aliases)
                + 2 * len(state.conversations) + len(state.pending_groups) + 1
                + len(people.names) + len(people.titles.keys() | people.admins.keys())
                + len(people.notes) + len(people.changes) + 1)
        return 2 * live + COMPACT_SLACK

    def compact(self) -> None:
        """Replace the journal by a snapshot of the state, atomically."""
        records = snapshot(self.state)
        write_private(self.path, b"".join(_line(r) for r in records))
        self._lines = len(records)
        if self._file is not None:
            self._file.close()
            self._file = self._open()

    def _open(self) -> BinaryIO:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "ab")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor releases the lock
            self._lock = None


def snapshot(state: State) -> list[Record]:
    """The shortest list of records that rebuilds `state` when replayed.

    In an order replay accepts: contacts before the groups and messages that
    would add them in another order, messages before the read marks about them.
    """
    return [*_contacts(state), *_groups(state), *_creates(state), *_messages(state),
            *_acts(state), *_read_marks(state), *_people(state)]


def _contacts(state: State) -> Iterator[Record]:
    for ident in state.contacts:
        yield {"t": "alias", "ident": ident, "alias": state.aliases.get(ident)}
    for ident, alias in state.aliases.items():
        if ident not in state.contacts:  # aliases of groups
            yield {"t": "alias", "ident": ident, "alias": alias}
    if state.blocked:
        yield {"t": "blocks", "users": state.blocked}


def _groups(state: State) -> Iterator[Record]:
    for conv in state.conversations.values():
        if conv.is_group and conv.members:
            yield {"t": "group", "group": conv.peer, "ts": conv.created,
                   "members": list(conv.members)}


def _creates(state: State) -> Iterator[Record]:
    if state.last_create_ts:
        yield {"t": "stamp", "ts": state.last_create_ts}
    for pending in state.pending_groups.values():
        record: Record = {"t": "create", "ts": pending.ts, "members": list(pending.members)}
        if pending.name is not None:
            record["name"] = pending.name
        yield record


def _messages(state: State) -> Iterator[Record]:
    for m in state.messages.values():
        record: Record = {"t": "msg", "src": m.src, "dst": m.dst, "ts": m.ts, "text": m.text}
        if m.tick is not None:
            record["tick"] = int(m.tick)
        if m.at is not None:
            record["at"] = m.at
        if m.reply is not None:
            record["reply"] = list(m.reply)
        yield record


def _acts(state: State) -> Iterator[Record]:
    """Every edit, deletion and reaction (a deletion has emptied the texts it erased)."""
    for a in state.acts.values():
        record: Record = {"t": "act", "src": a.src, "dst": a.dst, "ts": a.ts, "kind": a.kind,
                          "ref_src": a.ref_src, "ref_ts": a.ref_ts, "text": a.text}
        if a.tick is not None:
            record["tick"] = int(a.tick)
        if a.at is not None:
            record["at"] = a.at
        yield record


def _read_marks(state: State) -> Iterator[Record]:
    for conv in state.conversations.values():
        if conv.seen:
            yield {"t": "seen", "peer": conv.peer, "ts": conv.seen}
        if conv.late:
            yield {"t": "late", "peer": conv.peer,
                   "keys": [list(key) for key in sorted(conv.late)]}


def _people(state: State) -> Iterator[Record]:
    """Names, then each group's name, admins and change lines, then what awaits an answer
    (after the messages: a line's place is a count of its chat's messages)."""
    people = state.people
    for user, name in people.names.items():
        yield {"t": "named", "user": user, "name": name}
    for group in sorted(people.titles.keys() | people.admins.keys()):
        admins = people.admins.get(group)
        yield {"t": "group_info", "group": group, "title": people.titles.get(group),
               "admins": None if admins is None else list(admins)}
    for group, lines in people.notes.items():
        if lines:
            yield {"t": "notes", "group": group,
                   "lines": [[n.ts, n.actor, n.op, n.arg, n.index] for n in lines]}
    for change in people.changes.values():
        yield {"t": "change", "group": change.group, "ts": change.ts, "op": change.op,
               "arg": change.arg}
    if people.wanted is not None:
        yield {"t": "want_name", "name": people.wanted}


def export(state: State) -> dict[str, Any]:
    """The original client's backup format.

    {"contacts": [id, ...], "messages": {"<peer>": [{"sender", "time", "content",
    "delivered", "read"}, ...]}}; "time" is Unix seconds, when it was sent as far as
    we can tell (Message.shown_at, not the key's ts), "peer" the other user or the
    group. A received message counts as delivered (we hold it) and as read once we
    sent 08 for it; an own one by its ticks. A line break is an LF in "content"
    (U+2028 in the journal and on the wire): a plain JSON string.
    """
    messages: dict[str, list[dict[str, Any]]] = {}
    for conv in state.conversations.values():
        if not conv.messages:
            continue
        messages[conv.peer] = [
            {
                "sender": m.src,
                "time": m.shown_at,
                "content": for_people(shown_text(m)),
                "delivered": m.tick >= Tick.DELIVERED if m.tick is not None else True,
                "read": m.tick is Tick.READ if m.own else conv.is_read(m),
            }
            for m in conv.messages
        ]
    return {"contacts": list(state.contacts), "messages": messages}


def write_export(state: State, target: Path) -> None:
    """Write export(state) to `target` as indented JSON (mode 0600: it is private)."""
    data = json.dumps(export(state), ensure_ascii=False, indent=2).encode() + b"\n"
    write_private(target, data)
