"""Blocks: who does not take 1:1 messages, nor group invitations, from whom (PROTOCOL.md 5.8).

Part of the store (Store.blocks). A block is a row of `block`; the check every
1:1 message makes is answered from caches.py, which loads every block at its
first use (blocks are few) and is told of each change, so that it costs no
statement; with the caches off (a shared database) it is one primary-key lookup,
or none when the batch fetched it with the recipient's queue head (heads.py).

Knows ids, the block table and the caches; knows no chat rules.
"""

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.heads import Heads
from interzap_server.storage.models import Block
from interzap_server.storage.numbers import user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import user_id


class Blocks:
    """Blocks as plain ids."""

    def __init__(self, runner: Runner, caches: LocalCaches, sql: Statements,
                 heads: Heads) -> None:
        self._runner = runner
        self._caches = caches
        self._sql = sql
        self._heads = heads

    def block(self, blocker: str, blocked: str) -> None:
        """`blocker` blocks `blocked`; blocking again changes nothing."""
        pair = user_number(blocker), user_number(blocked)
        self._runner.execute(Block
                             .insert(blocker=pair[0], blocked=pair[1])
                             .on_conflict_ignore())
        self._heads.forget_blocks(pair[0])  # fetched before this frame: ask again
        table = self._table()
        if table is not None:
            table.setdefault(pair[0], set()).add(pair[1])

    def unblock(self, blocker: str, blocked: str) -> None:
        """`blocker` no longer blocks `blocked` (if they did)."""
        pair = user_number(blocker), user_number(blocked)
        self._runner.execute(Block
                             .delete()
                             .where((Block.blocker == pair[0]) & (Block.blocked == pair[1])))
        self._heads.forget_blocks(pair[0])
        table = self._table()
        if table is not None:
            table.get(pair[0], set()).discard(pair[1])

    def blocked_by(self, blocker: str) -> tuple[str, ...]:
        """Everyone `blocker` blocks, by number."""
        rows = self._runner.query(Block
                                  .select(Block.blocked)
                                  .where(Block.blocker == user_number(blocker))
                                  .order_by(Block.blocked))
        return tuple(user_id(blocked) for (blocked,) in rows)

    def blocks(self, blocker: str, sender: str) -> bool:
        """Whether `blocker` blocks `sender`: from memory while the caches are on."""
        pair = user_number(blocker), user_number(sender)
        table = self._caches.blocks()  # loaded: the usual case
        if table is None and (table := self._table()) is None:  # the caches are off
            fetched = self._heads.blocks(*pair)
            if fetched is not None:
                return fetched
            return self._runner.one(self._sql.blocks, *pair) is not None
        return pair[1] in table.get(pair[0], ())

    def _table(self) -> dict[int, set[int]] | None:
        """Every block, loaded now if not yet; None while the caches are off."""
        if not self._caches.on:
            return None
        table = self._caches.blocks()
        if table is None:
            rows = self._runner.query(Block.select(Block.blocker, Block.blocked))
            self._caches.learn_blocks([(int(a), int(b)) for a, b in rows])
            table = self._caches.blocks()
        return table
