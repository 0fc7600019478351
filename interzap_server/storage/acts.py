"""What the rules of 31 (reply, edit, delete, react) ask of the database (PROTOCOL.md 5.11).

Part of the store (Store.acts), off the path of an ordinary message: only a 31
calls it. When a referred message was accepted, from the key table (a key
this transaction added counts, with the batch's time); the still-queued copies
of a message and of what followed it from the same author in the same chat,
and rewriting one of them in place, for a deletion that must leave no text
behind in the queue.

Knows ids, the key table and the queue; knows no frames' meaning and no rules.
"""

from collections.abc import Callable, Sequence

from interzap_server.storage.models import Entry, MessageKey
from interzap_server.storage.numbers import number, user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.writes import Place, Writes


class Acts:
    """Lookups and rewrites for 31s, in the store's open transaction."""

    def __init__(self, runner: Runner, writes: Writes, flush: Callable[[], None]) -> None:
        self._runner = runner
        self._writes = writes
        self._flush = flush  # writes waiting in writes.py, so that a query sees them

    def accepted(self, src: str, dst: str, ts: int) -> int | None:
        """The server time the message (src, dst, ts) was accepted, None if its key is not
        remembered (never accepted, or forgotten after KEY_MEMORY)."""
        key = (number(dst), user_number(src), ts)
        pending = self._writes.accepted(key)
        if pending is not None:
            return pending
        rows = self._runner.query(MessageKey
                                  .select(MessageKey.accepted)
                                  .where((MessageKey.dst == key[0]) & (MessageKey.src == key[1])
                                         & (MessageKey.ts == key[2])))
        return int(rows[0][0]) if rows else None

    def queued_since(self, recipients: Sequence[str], src: str, dst: str,
                     since: int) -> list[tuple[Place, str]]:
        """The recipients' unacknowledged copies of what src sent to dst from ts `since` on
        (06s and 32s), as (place, frame): found among each recipient's own entries."""
        self._flush()
        found: list[tuple[Place, str]] = []
        for recipient in recipients:
            user = user_number(recipient)
            rows = self._runner.query(Entry
                                      .select(Entry.seq, Entry.frame)
                                      .where((Entry.user == user) & (Entry.src == user_number(src))
                                             & (Entry.dst == number(dst)) & (Entry.ts >= since))
                                      .order_by(Entry.seq))
            found.extend(((user, int(seq)), str(frame)) for seq, frame in rows)
        return found

    def rewrite(self, place: Place, frame: bytes) -> None:
        """Replace the frame of a queued entry (its key, place and order stay)."""
        user, seq = place
        self._runner.execute(Entry
                             .update(frame=frame.decode("utf-8"))
                             .where((Entry.user == user) & (Entry.seq == seq)))
