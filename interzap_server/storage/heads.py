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
the user exists, which of the iteration's authors they block, and which of the
keys of its 05s are known already.

Theory of operation: while the transaction holds a head's lock no other node
can take a seq of that queue or add to it, so the node hands out the next
seqs itself and counts the queue as it adds; the heads it moved are written
back in one UPDATE at the flush (write()). The locks die with the
transaction, and so does all of this: the store clears it at every begin,
commit and rollback. A frame undone alone (its savepoint) keeps the seqs it
took as gaps (PROTOCOL.md: ids are not gapless); the counters never go back,
so no seq is handed out twice. Users not fetched (group members, 22s, 09s...)
keep the per-entry statements of store.py. A head, once made, stays (the
operator's delete of an account removes it; a 05 to that account is refused,
and a head missing after all is made by store.py's own statement), so the node
remembers whom it saw one for and makes only the others' (25 us a batch).

The keys: every 1:1 key is written by a transaction that holds its recipient's
head, so a key read under that lock and not found cannot appear before this
transaction commits; it is new for sure, and its INSERT needs no answer (it
goes with the commit's round trip instead of one of its own, writes.py). A
known one is a retransmission, found before anything is owed for it.

Knows user numbers and the statements; knows no ids, no sessions and no rules.
"""

from collections.abc import Collection, Mapping

from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from interzap_server.storage.writes import Key, write_rows


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
        self._checked: set[Key] = set()  # keys looked for under their recipient's lock
        self._known: set[Key] = set()  # of those, the ones found (or written since)
        self._made: set[int] = set()  # users whose head exists, across transactions (fetch)

    def clear(self) -> None:
        """The transaction ended (or a new one began): the locks are gone."""
        self._seqs.clear()
        self._owed.clear()
        self._exists.clear()
        self._blocked.clear()
        self._moved.clear()
        self._checked.clear()
        self._known.clear()

    def in_order(self, users: Collection[int]) -> bool:
        """Whether locking these users now keeps this transaction's locks in user order
        (none held yet above the lowest new one)."""
        new = [user for user in users if user not in self._seqs]
        return not new or not self._seqs or max(self._seqs) < min(new)

    def fetch(self, recipients: Mapping[int, Collection[int]], authors: Collection[int],
              limit: int, pending: Mapping[int, int], keys: Collection[Key] = ()) -> None:
        """Lock and read, in one round trip, the heads of `recipients` (each with the
        authors whose block to check) and of `authors`, and look for `keys` (of 1:1
        messages to `recipients`); users held already are only asked for their keys.
        `pending`: entries of a user written by this transaction but not yet flushed
        (they count in its queue)."""
        counted = sorted(set(recipients) - self._seqs.keys())
        keys = [key for key in keys if key not in self._checked]
        users = sorted((set(recipients) | set(authors)) - self._seqs.keys()
                       | {dst for dst, _, _ in keys})
        if not users:
            return
        senders = sorted({src for sources in recipients.values() for src in sources})
        dsts, srcs, stamps = ([key[i] for key in keys] for i in range(3))
        missing = [user for user in users if user not in self._made]
        make, made = (self._sql.make_heads, [missing]) if missing else ("", [])
        rows = self._runner.rows(make + self._sql.lock_heads + self._sql.fetch_heads,
                                 *made, users, counted, limit, senders, users, dsts, srcs,
                                 stamps)
        self._checked.update(keys)
        for user, seq, owed, exists, blocked, known in rows:
            self._known.update((user, src, ts) for src, ts in known)
            if seq is not None:
                self._made.add(user)
            if user not in self._seqs:
                self._learn(recipients, pending, user, seq, owed, exists, blocked)

    def _learn(self, recipients: Mapping[int, Collection[int]], pending: Mapping[int, int],
               user: int, seq: int | None, owed: int | None, exists: bool,
               blocked: Collection[int]) -> None:
        """What the fetch found of a user not held before."""
        if seq is not None:  # no account at all: no head, nothing held
            self._seqs[user] = int(seq)
        if user in recipients:
            self._exists[user] = bool(exists)
            self._blocked[user] = (recipients[user], set(blocked))
            if owed is not None:
                self._owed[user] = int(owed) + pending.get(user, 0)

    def key_known(self, key: Key) -> bool | None:
        """Whether a 1:1 key is in the database (or written by this transaction), or
        None: not looked for under its recipient's lock."""
        if key in self._known:
            return True
        return False if key in self._checked else None

    def new_keys(self, keys: Collection[Key]) -> set[Key]:
        """Those of `keys` looked for and not found: new for sure, their INSERT needs no
        answer (writes.py)."""
        if not self._checked:
            return set()
        return {key for key in keys if key in self._checked and key not in self._known}

    def written(self, keys: Collection[Key]) -> None:
        """These keys were written by this transaction (a flush): known from now on."""
        self._known.update(keys)

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
