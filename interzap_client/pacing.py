"""How fast our own frames may leave: a token bucket that learns the server's flood limit.

PROTOCOL.md 5.7: a server takes a number of frames a second after a burst (by
default 100 after 200; 12 and 15 are free) and answers the rest with 13/10,
dropping them unhandled. A client cannot ask for the limit, so it starts
below the default and learns it.

Theory of operation (AIMD, as TCP learns a path's capacity):

- Start at half the default rate, with a small burst (START_RATE,
  START_BURST): a server set lower refuses early, after few frames, and never
  a whole burst of them in a row, which would cut the connection and ban our
  address (5.7).
- A 13/10 halves the rate (multiplicative decrease). Today's server names its
  limit in the reason ("more than 20 frames a second"): a hint (reasons may
  change, section 3) that caps the rate at SAFETY times it. The burst drops to
  one frame, since the server's burst is unknown, and the bucket is empty, as
  the server's is.
- After CLEAN_STRETCH seconds without a refusal the rate creeps up by STEP
  (additive increase), never above the ceiling: SAFETY times the stated limit,
  or SAFETY times the rate that was refused when none was stated.

Refuses to know about sockets, frames and the event loop: the time is a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

START_RATE = 50.0
"""Frames a second before any refusal: half the server's default (PROTOCOL.md 5.7)."""
START_BURST = 20.0
"""Frames that may leave at once before any refusal: a tenth of the server's default."""
MIN_RATE = 1.0
SAFETY = 0.9
"""The share of a limit we aim at: timers and the network are not exact."""
CLEAN_STRETCH = 2.0
"""Seconds without a refusal before the rate creeps up by STEP."""
STEP = 1.0

_STATED = re.compile(r"(\d+(?:\.\d+)?) frames a second")


def stated_limit(reason: str) -> float | None:
    """The limit a 13/10's reason names (frames a second), if it names one."""
    match = _STATED.search(reason)
    limit = float(match.group(1)) if match else 0.0
    return limit if limit > 0 else None


@dataclass(slots=True)
class Pacer:
    """A token bucket for the frames we start: `rate` a second after `burst` at once."""

    rate: float = START_RATE
    burst: float = START_BURST
    ceiling: float = START_RATE
    tokens: float = START_BURST
    stamp: float | None = None  # when tokens was last brought up to date
    calm_since: float | None = None  # the last refusal or increase (None: never refused)

    def wait(self, now: float) -> float:
        """Seconds until the next frame may leave; 0: it may leave now (its token is taken)."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def refused(self, now: float, limit: float | None) -> None:
        """A 13/10: slow down to half (at most SAFETY times the stated `limit`)."""
        self.ceiling = SAFETY * (limit if limit is not None else self.rate)
        self.rate = max(MIN_RATE, min(self.rate / 2, self.ceiling))
        self.burst, self.tokens = 1.0, 0.0
        self.stamp = self.calm_since = now

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        calm = self.calm_since
        if calm is not None and now - calm >= CLEAN_STRETCH and self.rate < self.ceiling:
            self.rate = min(self.ceiling, self.rate + STEP)
            self.calm_since = now
