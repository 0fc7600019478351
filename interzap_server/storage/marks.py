"""Read marks: how far each reader has read what each author sent to a chat (08), and the
message keys they are computed from (PROTOCOL.md 5.4).

Part of the store (Store.marks). A mark is a row of `read_mark`; what a reader
acknowledged is a kept key with no copy left in the reader's queue, so a read
first writes what waits (the store's flush). Shared, on PostgreSQL, the marks of
one (chat, author) are locked before they are read: 08s taken by several nodes
at once take turns (docs/SCALING.md).

Knows ids, the message_key, queue and read_mark tables; knows no chat rules.
"""

from collections.abc import Callable

from peewee import fn

from interzap_server.storage.models import Entry, MessageKey, ReadMark
from interzap_server.storage.numbers import number, user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import number_of, user_id


class ReadMarks:
    """Read marks as plain ids."""

    def __init__(self, runner: Runner, sql: Statements, locks: bool,
                 flush: Callable[[], None]) -> None:
        self._runner = runner
        self._sql = sql
        self._locks = locks  # several nodes on PostgreSQL: lock the marks before reading
        self._flush = flush  # the store's: write what waits before a read it would change

    def newest_acknowledged(self, dst: str, reader: str, upto: int,
                            author: str | None = None) -> dict[str, int]:
        """Per author, the newest ts <= upto of its messages to dst that reader acknowledged."""
        self._flush()
        still_queued = (Entry
                        .select(Entry.seq)
                        .where((Entry.user == number_of(reader))
                               & (Entry.dst == MessageKey.dst)
                               & (Entry.src == MessageKey.src)
                               & (Entry.ts == MessageKey.ts)))
        condition = ((MessageKey.dst == number(dst)) & (MessageKey.ts <= upto)
                     & ~fn.EXISTS(still_queued))
        condition &= ((MessageKey.src == number_of(author)) if author
                      else (MessageKey.src != number_of(reader)))
        rows = self._runner.query(MessageKey
                                  .select(MessageKey.src, fn.MAX(MessageKey.ts))
                                  .where(condition)
                                  .group_by(MessageKey.src))
        # in author order: several 08s lock authors' marks (read_marks) in the same order
        return {user_id(src): int(ts) for src, ts in sorted(rows)}

    def read_marks(self, dst: str, author: str) -> dict[str, int]:
        """How far each reader has read what `author` sent to `dst`. Shared, these marks
        are locked until the commit first: 08s taken by several nodes at once take turns,
        each reading the marks the one before it wrote (so none misses that its 08 was
        the last one an author waited for)."""
        sql, params = (ReadMark
                       .select(ReadMark.reader, ReadMark.ts)
                       .where((ReadMark.dst == dst) & (ReadMark.author == author))
                       .sql())
        if self._locks:
            sql, params = self._sql.lock_marks + sql, [number(dst), user_number(author),
                                                        *params]
        return {reader: int(ts) for reader, ts in self._runner.rows(sql, *params)}

    def newest_keys(self, dst: str) -> dict[str, int]:
        """Per author, the ts of their newest message (or act) to `dst` whose key is kept."""
        self._flush()
        rows = self._runner.query(MessageKey
                                  .select(MessageKey.src, fn.MAX(MessageKey.ts))
                                  .where(MessageKey.dst == number(dst))
                                  .group_by(MessageKey.src))
        return {user_id(src): int(ts) for src, ts in rows}

    def set_read_mark(self, dst: str, author: str, reader: str, ts: int) -> None:
        self._runner.execute(ReadMark
                             .insert(dst=dst, author=author, reader=reader, ts=ts)
                             .on_conflict(conflict_target=[ReadMark.dst, ReadMark.author,
                                                           ReadMark.reader],
                                          update={ReadMark.ts: ts}))
