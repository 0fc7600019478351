"""Where each 1:1 06 a node sent is in its recipient's queue, so that the 12 needs no lookup.

Part of the store, for nodes of a cluster (a lone server has caches.py's
places, true for its one writer). A 06 the node sends to a session, live
after its commit or read from the queue, is (user, seq) in the database, and
stays there until a 12 deletes it: so the node remembers it while the user's
session lives here, and the 12 joins the batch's one DELETE by primary key
instead of a DELETE that looks the copy up by its key.

If the user acknowledged the same 06 on another node meanwhile (two sessions
overlap only until the newer login's notification closes the older one), the
DELETE here finds nothing and the author is owed a second 07, which
PROTOCOL.md 5 lets come twice. A 12 repeated here finds no place the second
time (taken by the first) and is looked up, as before.

Knows user numbers, seqs and message keys; knows no SQL, no sessions, no rules.
"""

from interzap_server.storage.writes import Key, Place


class Places:
    """The 1:1 06s sent to the users online on this node, by user and key."""

    def __init__(self) -> None:
        self._made: dict[Place, Key] = {}  # 1:1 06s made by the last transaction
        self._sent: dict[int, dict[Key, int]] = {}  # user -> key -> seq

    def begin(self) -> None:
        """A new transaction: what the last one made was sent (or not) already."""
        self._made.clear()

    def made(self, user: int, seq: int, key: Key) -> None:
        """This transaction owes `user` the 1:1 06 `key` as its entry `seq`."""
        self._made[user, seq] = key

    def sent(self, user: int, seq: int) -> None:
        """The entry `seq`, made by the last transaction, was sent to `user`'s session."""
        key = self._made.get((user, seq))
        if key is not None:
            self.learn(user, key, seq)

    def learn(self, user: int, key: Key, seq: int) -> None:
        """A 1:1 06 read from `user`'s queue (or carried by a wake-up) was sent to their
        session."""
        self._sent.setdefault(user, {})[key] = seq

    def take(self, user: int, key: Key) -> int | None:
        """The seq of `user`'s copy of `key`, forgotten now that it is acknowledged, or
        None: not sent from here (or acknowledged already)."""
        sent = self._sent.get(user)
        return None if sent is None else sent.pop(key, None)

    def forget(self, user: int) -> None:
        """`user`'s session here ended: what it was sent may be acknowledged elsewhere."""
        self._sent.pop(user, None)
