"""Flood control: a token bucket per connection, and bans of addresses cut for flooding.

Knows events, addresses and time, not sockets: the loop asks `admit(event, now)`
for each frame a connection sends, and `FloodBans.remaining(host, now)` for each
new connection. Frames that answer the server (12 receipts, 15 pongs)
are free, since their number is bounded by what the server sent (a 12 that
acknowledges nothing is charged afterwards, see Peer.strike); everything else a
client sends costs one token, malformed lines included.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from shared import events as ev

Network = IPv4Network | IPv6Network
"""An IP network, as --trusted lists them."""


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
        if self.rate <= 0 or isinstance(event, ev.RATE_FREE):
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


def client_address(host: str) -> IPv4Address | IPv6Address | None:
    """`host` as accept() gives it, parsed; an IPv4 client of a dual-stack listener
    (::ffff:127.0.0.1) as its IPv4; None if it is not an IP address (a Unix socket)."""
    try:
        address = ip_address(host)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def trusted(host: str, networks: Iterable[Network]) -> bool:
    """Whether `host` (an IP address as accept() gives it) is in one of `networks`."""
    address = client_address(host)
    return address is not None and any(address in network for network in networks)


MAX_BANS = 65_536
"""Addresses remembered at once; beyond that the oldest ban is forgotten early."""


class FloodBans:
    """Addresses cut for flooding, banned for `seconds` (their new connections wait half a
    second in the loop's tarpit, then are told so), except those in a trusted network.

    Without it a flooder that reconnects whenever it is cut gets a fresh burst
    each time, and the bucket limits nothing. The price: clients behind the same
    address share the ban. That is why trusted networks (by default the loopback
    ones, as fail2ban's `ignoreip`) are never banned: one local process that
    floods must not lock out every other client on the machine. A flooder there
    is still refused and cut by its bucket.
    """

    def __init__(self, seconds: float, trusted: Iterable[Network] = (),
                 capacity: int = MAX_BANS) -> None:
        self.seconds = seconds
        self._trusted = tuple(trusted)
        self._capacity = capacity
        self._until: dict[str, float] = {}  # every ban lasts `seconds`: oldest first

    def ban(self, host: str, now: float) -> bool:
        """Ban `host` for `seconds` from `now` (afresh if it already is); False if it is
        not banned: it is trusted, or bans are off."""
        if self.seconds <= 0 or self.trusts(host):
            return False
        self._until.pop(host, None)
        self._until[host] = now + self.seconds
        if len(self._until) > self._capacity:
            del self._until[next(iter(self._until))]
        return True

    def trusts(self, host: str) -> bool:
        """Whether `host` is in a trusted network (see `trusted`)."""
        return trusted(host, self._trusted)

    def remaining(self, host: str, now: float) -> float:
        """Seconds the host stays banned; 0 if it is not."""
        return max(0.0, self._until.get(host, now) - now)

    def __len__(self) -> int:
        return len(self._until)

    def prune(self, now: float) -> None:
        """Forget bans that are over."""
        while self._until and next(iter(self._until.values())) <= now:
            del self._until[next(iter(self._until))]
