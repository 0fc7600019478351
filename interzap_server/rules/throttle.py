"""The server's limit on typing frames: one 27 relayed per sender and chat per interval.

The client sends at most one every 3 s while its user types (PROTOCOL.md 5.13);
the server relays at most one per TYPING_INTERVAL seconds of its own (whole
seconds: one less, for the rounding of both clocks and the network's jitter)
and drops the others without a word. Memory of this process only: a limit,
not a truth, so servers sharing a database need not agree on it.
"""

from dataclasses import dataclass, field

TYPING_INTERVAL = 3
"""Seconds between two 27s of one sender in one chat, as the client keeps them."""
SLACK = 1
"""Seconds of that interval the server forgives (whole-second clocks, jitter)."""
MAX_REMEMBERED = 10_000
"""Pairs kept before the old ones are forgotten."""


@dataclass(slots=True)
class Throttle:
    """The time each (sender, chat) last had a 27 relayed."""

    last: dict[tuple[str, str], int] = field(default_factory=dict)

    def admit(self, sender: str, chat: str, now: int) -> bool:
        """Whether a 27 from `sender` in `chat` at `now` may be relayed (and remember it)."""
        key = (sender, chat)
        previous = self.last.get(key)
        if previous is not None and now - previous < TYPING_INTERVAL - SLACK:
            return False
        if len(self.last) >= MAX_REMEMBERED:
            self.last = {k: t for k, t in self.last.items() if now - t < TYPING_INTERVAL}
        self.last[key] = now
        return True
