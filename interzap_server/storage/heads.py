"""Queue heads held by a shared batch: what one statement fetched for the iteration's 1:1 frames.

Part of the store, for nodes of a cluster on PostgreSQL only (docs/SCALING.md,
"Statements per message"). Without it a 1:1 05 asks the database four times
(the recipient exists, the block check, the queue's lock and length, the seq)
and a 12 once more for its 07's seq, a round trip each. Before handling an
iteration's frames the service names the recipients of its 1:1 05s and the
authors owed a 07 by its 12s, and fetch() asks for all of it at once: the
heads (created if missing) locked FOR UPDATE in user order, so that two nodes
locking the same users never wait for each other in a cycle; then, under
those locks, each head's seq, the queue's length (up to the limit), whether
the user exists, and which of the iteration's authors they block.

Theory of operation: while the transaction holds a head's lock no other node
can take a seq of that queue or add to it, so the node hands out the next
seqs itself and counts the queue as it adds; the heads it moved are written
back in one UPDATE at the flush (write()). The locks die with the
transaction, and so does all of this: the store clears it at every begin,
commit and rollback. A frame undone alone (its savepoint) keeps the seqs it
took as gaps (PROTOCOL.md: ids are not gapless); the counters never go back,
so no seq is handed out twice. Users not fetched (group members, 22s, 09s...)
keep the per-entry statements of store.py.

Knows user numbers and the statements; knows no ids, no sessions and no rules.
"""

from collections.abc import Collection, Mapping

from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from interzap_server.storage.writes import write_rows


class Heads:
    """The queue heads this transaction holds, and what was fetched with them."""

    def __init__(self, runner: Runner, sql: Statements) -> None:
        self._runner = runner
        self._sql = sql
        self._seqs: dict[int, int] = {}  # held heads: the last seq handed out
        self._owed: dict[int, int] = {}  # recipients: an upper bound of the queue's length
        self._exists: dict[int, bool] = {}  # an account that may be sent to (not disabled)
        self._blocked: dict[int, tuple[Collection[int], set[int]]] = {}  # asked, blocked
        self._moved: set[int] = set()  # heads whose seq the database does not have yet

    def clear(self) -> None:
        """The transaction ended (or a new one began): the locks are gone."""
        self._seqs.clear()
        self._owed.clear()
        self._exists.clear()
        self._blocked.clear()
        self._moved.clear()

    def in_order(self, users: Collection[int]) -> bool:
        """Whether locking these users now keeps this transaction's locks in user order
        (none held yet above the lowest new one)."""
        new = [user for user in users if user not in self._seqs]
        return not new or not self._seqs or max(self._seqs) < min(new)

    def fetch(self, recipients: Mapping[int, Collection[int]], authors: Collection[int],
              limit: int, pending: Mapping[int, int]) -> None:
        """Lock and read, in one round trip, the heads of `recipients` (each with the
        authors whose block to check) and of `authors`; users held already are left
        as they are. `pending`: entries of a user written by this transaction but not
        yet flushed (they count in its queue)."""
        counted = sorted(set(recipients) - self._seqs.keys())
        users = sorted((set(recipients) | set(authors)) - self._seqs.keys())
        if not users:
            return
        senders = sorted({src for sources in recipients.values() for src in sources})
        rows = self._runner.rows(self._sql.lock_heads + self._sql.fetch_heads,
                                 users, users, counted, limit, senders, users)
        for user, seq, owed, exists, blocked in rows:
            if seq is not None:  # no account at all: no head, nothing held
                self._seqs[user] = int(seq)
            if user in recipients:
                self._exists[user] = bool(exists)
                self._blocked[user] = (recipients[user], set(blocked))
                if owed is not None:
                    self._owed[user] = int(owed) + pending.get(user, 0)

    def next_seq(self, user: int) -> int | None:
        """The next seq of a held queue, or None: not held, ask the database."""
        last = self._seqs.get(user)
        if last is None:
            return None
        self._seqs[user] = last + 1
        self._moved.add(user)
        if user in self._owed:
            self._owed[user] += 1
        return last + 1

    def has_room(self, user: int, limit: int) -> bool | None:
        """Whether fewer than `limit` frames are owed to a held user, or None: not known."""
        owed = self._owed.get(user)
        return None if owed is None else owed < limit

    def exists(self, user: int) -> bool | None:
        """Whether a fetched recipient may be sent to, or None: not fetched."""
        return self._exists.get(user)

    def blocks(self, blocker: int, sender: int) -> bool | None:
        """Whether a fetched recipient blocks `sender`, or None: not asked."""
        asked = self._blocked.get(blocker)
        if asked is None or sender not in asked[0]:
            return None
        return sender in asked[1]

    def undone(self) -> None:
        """A frame was rolled back to its savepoint, and with it any write() since: every
        held head is written again at the next (its counter never goes back: the seqs
        the frame took are gaps)."""
        self._moved.update(self._seqs)

    def forget_blocks(self, blocker: int) -> None:
        """`blocker` blocked or unblocked someone after the fetch: ask the database."""
        self._blocked.pop(blocker, None)

    @property
    def moved(self) -> bool:
        """Whether write() has something to write."""
        return bool(self._moved)

    def write(self) -> None:
        """Write the heads moved since the last write, in one statement."""
        rows = [(user, self._seqs[user]) for user in sorted(self._moved)]
        self._moved.clear()
        write_rows(self._runner, self._sql, rows, self._sql.write_heads)
