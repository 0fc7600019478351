"""What only a node of a cluster asks of the store (docs/SCALING.md): the queue heads it
locks for a batch's 1:1 frames (heads.py), the places of the 06s it sent to its sessions
(places.py), and the heads its sweep reads. A lone server never calls these, or they
do nothing for it.

Part of the store (Store.node); shares the store's Heads, Places and waiting writes.
Knows ids and numbers; the SQL is heads.py's and statements.py's.
"""

from collections.abc import Collection, Mapping, Sequence

from interzap_server.storage.heads import Heads
from interzap_server.storage.numbers import SEQ_SPAN, user_number
from interzap_server.storage.places import Places
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from interzap_server.storage.writes import Key, Writes
from shared.ids import user_id


class Node:
    """A node's own part of the store, as plain ids."""

    def __init__(self, runner: Runner, sql: Statements, heads: Heads, places: Places,
                 writes: Writes, locks: bool) -> None:
        self._runner = runner
        self._sql = sql
        self._heads = heads
        self._places = places
        self._writes = writes
        self._locks = locks  # several nodes on PostgreSQL (Store._locks)

    def delivered(self, entry: int) -> None:
        """Shared: an entry the last transaction made was sent to its user's session here
        (places.py: its 12 then needs no lookup); only sessions of a shared store call it."""
        self._places.sent(*divmod(entry, SEQ_SPAN))

    def carried(self, entry: int, message: Key) -> None:
        """Shared: a 06 another node made, carried by its wake-up (wakeups.py), was sent to
        its user's session here; a 1:1 one's place is remembered for its 12 (places.py)."""
        if message[0] > 0:
            user, seq = divmod(entry, SEQ_SPAN)
            self._places.learn(user, message, seq)

    def heads_of(self, users: Sequence[str]) -> dict[str, int]:
        """Shared, on PostgreSQL: the newest entry committed in each of these users'
        queues (for the sweep); those without one are left out."""
        if not self._locks or not users:
            return {}
        rows = self._runner.rows(self._sql.heads_of, [user_number(user) for user in users])
        return {user_id(user): user * SEQ_SPAN + seq for user, seq in rows}

    def forget_sent(self, recipient: str) -> None:
        """The recipient's session here ended: forget what it was sent (places.py)."""
        self._places.forget(user_number(recipient))

    def locks_in_order(self, users: Collection[str]) -> bool:
        """Whether prefetch() of these users keeps the transaction's head locks in user
        order (else the caller commits first)."""
        return self._heads.in_order([user_number(user) for user in users])

    def prefetch(self, recipients: Mapping[str, Collection[str]], authors: Collection[str],
                 limit: int, keys: Collection[tuple[str, str, int]] = ()) -> None:
        """Shared, on PostgreSQL: lock the queue heads of `recipients` (of 1:1 05s, each
        with its senders) and of `authors` (owed a 07) for the transaction, and learn in
        the same round trip what the 05s and 12s will ask of them (heads.py), including
        which of the 05s' `keys` (dst, src, ts) are known already."""
        if not self._locks:
            return
        numbers = {user_number(user): [user_number(src) for src in sources]
                   for user, sources in recipients.items()}
        pending = {user: self._writes.pending_for(user) for user in numbers}
        self._heads.fetch(numbers, [user_number(author) for author in authors], limit,
                          pending, [(user_number(dst), user_number(src), ts)
                                    for dst, src, ts in keys if dst in recipients])
