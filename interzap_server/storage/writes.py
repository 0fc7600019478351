"""The writes of one transaction that wait for its end: new keys, new entries, deleted entries.

Theory of operation: the rules write a message at a time, but the database is
cheapest written a kind at a time, and on PostgreSQL every statement is a
round trip. So the store hands out seqs and answers at once, and keeps the
rows here; flush() writes them, a statement per kind (on SQLite a few INSERTs
of many rows: insert_rows), before the transaction commits (Store.commit) or
before the store reads something they would change. Nothing leaves the server
before the commit (service.py), so nothing has seen a row that is still here.

A new key is not known to be new until its INSERT: a retransmission of a key
this process never saw (accepted before a restart, or by another server) looks
new when the 05 is handled. The flush inserts keys first, with ON CONFLICT DO
NOTHING; a key it finds known drops the entries made for it before they are
written, and names them as `voided`, so that the session does not send them
(sessions.py). Its author got the same 16 either way (PROTOCOL.md 5.2). A key
a node looked for under its recipient's lock (heads.py) is new for sure: it is
inserted without asking back, in the commit's round trip.

Knows rows of numbers and the statements; knows no ids, no caches, no rules.
"""

import functools
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from itertools import chain

from interzap_server.storage.runner import Row, Runner
from interzap_server.storage.statements import Statements

Key = tuple[int, int, int]
"""A message's (dst, src, ts), in numbers."""
Place = tuple[int, int]
"""An entry's (user, seq)."""
EntryRow = tuple[int, int, str, int, int, int]
"""(user, seq, frame, src, dst, ts): a 06 (or a 32), with its message's key."""
FrameRow = tuple[int, int, str]
"""(user, seq, frame): an entry without a key (07, 09, 11), written without the key's
columns: Python 3.11's sqlite3 spends about 3,000 instructions binding a None, looking
for an adapter (bench/README.md, "Session 10")."""

Mark = tuple[int, int, int, int]
"""How many keys, 06s, other entries and deletions waited when a frame began (mark(),
truncate())."""
NOTHING: Mark = (0, 0, 0, 0)


class Writes:
    """What the open transaction has yet to write."""

    def __init__(self, runner: Runner, sql: Statements) -> None:
        self._runner = runner
        self._sql = sql
        self._keys: dict[Key, int] = {}  # when each was accepted
        self._entries: list[EntryRow] = []  # 06s (and 32s), their key's columns set
        self._frames: list[FrameRow] = []  # 07s, 09s, 11s
        self._pending: Counter[int] | None = None  # per user, entries in both; once asked
        self._gone: list[Place] = []
        self.voided: set[Place] = set()  # entries dropped at a flush since the last clear()

    def clear(self) -> None:
        """Forget everything (the transaction ended, or rolled back)."""
        self._keys.clear()
        self._entries.clear()
        self._frames.clear()
        self._pending = None
        self._gone.clear()
        self.voided.clear()

    def mark(self) -> Mark:
        """Where the writes of what comes next begin: to drop them alone (truncate)."""
        return len(self._keys), len(self._entries), len(self._frames), len(self._gone)

    def truncate(self, mark: Mark) -> None:
        """Drop what was added since mark() (a frame rolled back to its savepoint)."""
        keys, entries, frames, gone = mark
        for key in list(self._keys)[keys:]:  # a dict keeps its keys in the order added
            del self._keys[key]
        del self._entries[entries:]
        del self._frames[frames:]
        del self._gone[gone:]
        self._pending = None  # counted again if asked

    def __bool__(self) -> bool:
        return bool(self._keys or self._entries or self._frames or self._gone)

    def has_key(self, key: Key) -> bool:
        return key in self._keys

    def accepted(self, key: Key) -> int | None:
        """When a key waiting to be written was accepted (None: it does not wait here)."""
        return self._keys.get(key)

    def add_key(self, key: Key, accepted: int) -> None:
        self._keys[key] = accepted

    @property
    def keys(self) -> AbstractSet[Key]:
        """The keys waiting to be written."""
        return self._keys.keys()

    def add_copy(self, row: EntryRow) -> None:
        """A 06 (or a 32): an entry of a message whose key waits here too."""
        self._entries.append(row)
        if self._pending is not None:
            self._pending[row[0]] += 1

    def add_frame(self, row: FrameRow) -> None:
        """An entry of no message (07, 09, 11)."""
        self._frames.append(row)
        if self._pending is not None:
            self._pending[row[0]] += 1

    def delete(self, place: Place) -> None:
        self._gone.append(place)

    def pending_for(self, user: int) -> int:
        """Entries of `user` not yet written (for a count of its queue, which the caches
        seldom need): counted at the first question, then as they come, since a batch of
        many users' first messages asks for each (a scan of the batch per 05 cost 2.7 s
        of 7.6 at 1,000 users under cProfile)."""
        if self._pending is None:
            self._pending = Counter(row[0] for row in self._entries)
            self._pending.update(row[0] for row in self._frames)
        return self._pending[user]

    def flush(self, checked: AbstractSet[Key] = frozenset(),
              ) -> tuple[dict[Key, int], list[EntryRow]]:
        """Write everything, keys first; `checked`: keys known to be new (heads.py).
        Returns the new group messages' keys (dst < 0) with how many copies each has,
        and the 06s written."""
        keys, self._keys = self._keys, {}
        new = self._insert_keys(keys, checked)
        entries, self._entries = self._entries, []
        self._pending = None
        if len(new) < len(keys):  # some were known: their entries go nowhere
            entries = self._void(entries, keys.keys() - new)
        write_rows(self._runner, self._sql, entries, self._sql.enqueue)
        frames, self._frames = self._frames, []
        write_rows(self._runner, self._sql, frames, self._sql.enqueue_frames)
        gone, self._gone = self._gone, []
        write_rows(self._runner, self._sql, gone, self._sql.dequeue)
        copies = Counter((dst, src, ts) for _, _, _, src, dst, ts in entries if dst < 0)
        return {key: count for key, count in copies.items() if key in new}, entries

    def _void(self, entries: list[EntryRow], known: AbstractSet[Key]) -> list[EntryRow]:
        """The entries of keys not `known`; the others' places are named as voided."""
        kept = []
        for row in entries:
            if (row[4], row[3], row[5]) in known:
                self.voided.add((row[0], row[1]))
            else:
                kept.append(row)
        return kept

    def _insert_keys(self, keys: dict[Key, int],
                     checked: AbstractSet[Key]) -> AbstractSet[Key]:
        """Insert the keys; those that were new (on SQLite, when all were, the view of
        `keys` itself). Known keys insert nothing. The `checked` ones (a node's, on
        PostgreSQL) are new: their INSERT waits to go with the next statement, and has
        no ON CONFLICT (a conflict would be a flaw of the locks: it fails the batch)."""
        rows = [(*key, accepted) for key, accepted in keys.items() if key not in checked]
        if self._sql.in_process:  # nothing is checked: one writer
            return self._insert_keys_in_process(keys, rows) if rows else set()
        sure = [(*key, accepted) for key, accepted in keys.items() if key in checked]
        write_rows(self._runner, self._sql, sure, self._sql.add_new_keys)
        new = {row[:3] for row in sure}
        if rows:
            returned: list[Row] = self._runner.rows(self._sql.add_keys, *columns(rows))
            new.update((int(dst), int(src), int(ts)) for dst, src, ts in returned)
        return new

    def _insert_keys_in_process(self, keys: dict[Key, int],
                                rows: list[tuple[int, int, int, int]]) -> AbstractSet[Key]:
        """SQLite: INSERTs of many rows without RETURNING (insert_rows; with RETURNING they
        cost twice executemany's, bench/README.md, "Session 5"). Their row counts say
        whether every key was new; if not (a retransmission from before this process),
        the keys are inserted again one at a time, after a rollback to a savepoint, to
        learn which."""
        runner, sql = self._runner, self._sql
        runner.run(sql.savepoint)
        inserted = insert_rows(runner, sql.add_key, rows)
        if inserted == len(rows):
            runner.run(sql.release)
            return keys.keys()  # no set of them built: the usual case
        runner.run(sql.rollback_to)
        runner.run(sql.release)
        return {row[:3] for row in rows if runner.run(sql.add_key, *row).rowcount}


def write_rows(runner: Runner, sql: Statements, rows: Sequence[tuple[object, ...]],
               statement: str) -> None:
    """One statement for all `rows`: in process an INSERT of many rows (insert_rows), or
    another statement of one row stepped per row (executemany); else one of arrays, a
    column each, which may wait to go with the next statement (Runner.later)."""
    if not rows:
        return
    if not sql.in_process:
        runner.later(statement, *columns(rows))
    elif statement.startswith("INSERT"):
        insert_rows(runner, statement, rows)
    else:
        runner.run_many(statement, rows)


def insert_rows(runner: Runner, statement: str, rows: Sequence[tuple[object, ...]]) -> int:
    """SQLite: an INSERT of one row (`VALUES (?, ...)`) run as INSERTs of CHUNK rows, then
    of the powers of two that make up the rest; the rows inserted. One statement of many
    rows costs less per row than executemany's step per row (4.3% of a 1:1 message's
    instructions in process, 5.3% of a group delivery's: bench/README.md, "Session 10"),
    and its texts are few (one per power of two), so sqlite3's statement cache keeps them
    compiled; DELETEs stay stepped, since SQLite scans the table for a `(user, seq) IN
    (VALUES ...)`."""
    inserted, start, size = 0, 0, CHUNK
    while start < len(rows):
        while size > len(rows) - start:
            size //= 2
        values = chain.from_iterable(rows[start:start + size])
        inserted += runner.run(_of_rows(statement, size), *values).rowcount
        start += size
    return inserted


CHUNK = 256
"""Rows per INSERT at most (256 x 6 values: far below SQLite's 32,766 parameters)."""


@functools.cache
def _of_rows(statement: str, count: int) -> str:
    """The INSERT of one row `statement` with `count` rows of parameters."""
    head, values, tail = statement.partition("VALUES ")
    row = tail[:tail.index(")") + 1]
    return head + values + ", ".join([row] * count) + tail[len(row):]


def columns(rows: Sequence[tuple[object, ...]]) -> list[list[object]]:
    """The rows' columns, each a list: psycopg2 sends a list as an ARRAY."""
    return [list(column) for column in zip(*rows, strict=True)]

