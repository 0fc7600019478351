"""Per-connection flood control: a token bucket, and which frames it counts.

Knows events and time, not sockets: the loop asks `admit(event, now)` for each
frame a connection sends. Frames that answer the server (12 receipts, 15 pongs)
are free, since their number is bounded by what the server sent (a 12 that
acknowledges nothing is charged afterwards, see Peer.strike); everything else a
client sends costs one token, malformed lines included.
"""

from dataclasses import dataclass

from shared import events as ev

FREE = (ev.Receipt, ev.Pong)


@dataclass(slots=True)
class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; rate 0 admits everything."""

    rate: float
    burst: float
    tokens: float = 0.0
    updated: float = 0.0
    refused: int = 0  # frames refused in a row

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def admit(self, event: object, now: float) -> bool:
        if self.rate <= 0 or isinstance(event, FREE):
            return True
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        return False

    @property
    def abusive(self) -> bool:
        """Refused a whole burst in a row: the client is not slowing down."""
        return self.rate > 0 and self.refused >= self.burst
