"""Per-address limits: connections held, accounts registered and logins failed from one
client address, and the 13 a connection or a frame gets beyond them (PROTOCOL.md 5.7).

Knows addresses, frame types and time; knows nothing of sockets, peers, the selector,
the store or whether a token is right. The loop calls `connect(host, now)` for each
accepted connection and `disconnect(host)` when it closes; `screen(host, item, now)`
for each 01, 20 or 03 of a connection not logged in, which gives back the frame or the
13 to answer instead; `failed_login(host, now)` when the service refuses a 03 with
13/04; `prune(now)` at its tick.

Theory of operation: one address is one key, except IPv6, where a /64 is one key
(a single subscriber gets a whole /64, so counting its addresses apart limits
nothing). Registrations and failed logins are each a token bucket per key: a
burst, then a slow rate. A 01 that passes costs its token at once (so a burst of
01s sent together on many connections cannot overtake the count); a 03 costs
nothing unless it fails, and once the failures have used the burst, 03s are
refused without being checked until a token is back. A bucket that has filled up
again is forgotten, and at most MAX_ADDRESSES are remembered (the oldest goes
first, getting a fresh burst early: only with that many addresses at work). The
networks of --trusted are exempt from all three. Each limit is logged once per
key per LOG_EVERY seconds, with the count of what it refused meanwhile, so a
flood of refusals is not a flood of log lines.
"""

import logging
import math
from collections import Counter
from collections.abc import Iterable
from ipaddress import IPv6Address, ip_network

from interzap_server.limits import Network, client_address, trusted
from interzap_server.settings import Settings
from shared import events as ev
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError

log = logging.getLogger(__name__)

MAX_ADDRESSES = 65_536
"""Buckets (and log throttles) remembered at once, per limit."""
LOG_EVERY = 60.0
"""Seconds between two log lines about one limit and one address."""
PRUNE_EVERY = 60.0
"""Seconds between passes that forget full buckets and quiet addresses."""
IPV6_PREFIX = 64
"""IPv6 clients are counted per network of this prefix length."""

Item = ev.Event | RemoteProtocolError
LOGGED = {
    ErrorCode.TOO_MANY_CONNECTIONS: (
        "connection", "{} connections from this address; more are refused with 13/17 "
                      "(--max-per-address)"),
    ErrorCode.TOO_MANY_ACCOUNTS: (
        "registration", "{} accounts registered; more 01s are refused with 13/16 "
                        "(--register-burst, --register-per-hour)"),
    ErrorCode.TOO_MANY_FAILED_LOGINS: (
        "failed login", "{} failed logins; 03s are refused unchecked with 13/18 "
                        "(--failed-login-burst, --failed-logins-per-hour)"),
}
"""Per refusal: the limit's name and what the log says of it (with the limit)."""
SCREENED = frozenset({ev.Register, ev.Login, ev.RegisterInvite})
"""Frame types `screen` may refuse (only before login: after it they get 13/11 anyway)."""
_REGISTRATIONS = (ev.Register, ev.RegisterInvite)
"""A 20 costs a registration as a 01 does, so invite codes are guessed no faster."""


def address_key(host: str) -> str:
    """What the limits count by: the IPv4 address, or the /64 of an IPv6 one."""
    address = client_address(host)
    if isinstance(address, IPv6Address):
        return str(ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return host if address is None else str(address)


class Buckets:
    """A token bucket per key: `per_second` tokens a second, at most `burst` saved up.
    A key not remembered has a full bucket."""

    def __init__(self, burst: int, per_second: float, capacity: int = MAX_ADDRESSES) -> None:
        self.burst = burst
        self.per_second = per_second
        self._capacity = capacity
        self._held: dict[str, tuple[float, float]] = {}  # key: (tokens, when)

    def __len__(self) -> int:
        return len(self._held)

    def _tokens(self, key: str, now: float) -> float:
        tokens, when = self._held.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - when) * self.per_second)

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` has a token; 0 if it has one now."""
        missing = 1 - self._tokens(key, now)
        return max(0.0, missing / self.per_second)

    def take(self, key: str, now: float) -> None:
        """Spend a token of `key` (none left: it stays at none)."""
        tokens = max(0.0, self._tokens(key, now) - 1)
        self._held.pop(key, None)
        self._held[key] = (tokens, now)
        if len(self._held) > self._capacity:
            del self._held[next(iter(self._held))]

    def prune(self, now: float) -> None:
        """Forget the keys whose bucket is full again."""
        for key in [key for key in self._held if self._tokens(key, now) >= self.burst]:
            del self._held[key]


class LogOnce:
    """One warning per (limit, key) per LOG_EVERY seconds; what was refused meanwhile is
    counted and said in the next line about it (or at prune, once it is quiet)."""

    def __init__(self, every: float = LOG_EVERY, capacity: int = MAX_ADDRESSES) -> None:
        self._every = every
        self._capacity = capacity
        self._quiet: dict[tuple[str, str], tuple[float, int]] = {}  # until, refused since

    def refused(self, limit: str, key: str, now: float, why: str) -> None:
        until, hidden = self._quiet.get((limit, key), (now, 0))
        if now < until:
            self._quiet[limit, key] = (until, hidden + 1)
            return
        log.warning("%s: %s (said once a minute per address)", key, why)
        self._quiet[limit, key] = (now + self._every, 0)
        if len(self._quiet) > self._capacity:
            del self._quiet[next(iter(self._quiet))]

    def prune(self, now: float) -> None:
        for (limit, key), (until, hidden) in list(self._quiet.items()):
            if until <= now:
                if hidden:
                    log.warning("%s: %d more refused by the %s limit", key, hidden, limit)
                del self._quiet[limit, key]


class AddressLimits:
    """The three per-address limits; 0 turns a limit off (`max_per_address`, a burst)."""

    def __init__(self, trusted_networks: Iterable[Network], max_per_address: int,
                 register_burst: int, register_per_hour: float,
                 failed_login_burst: int, failed_logins_per_hour: float) -> None:
        self._trusted = tuple(trusted_networks)
        self.max_per_address = max_per_address
        self._open: Counter[str] = Counter()  # connections per key, trusted ones too
        self.registrations = Buckets(register_burst, register_per_hour / 3600)
        self.failures = Buckets(failed_login_burst, failed_logins_per_hour / 3600)
        self._log = LogOnce()
        self._next_prune = 0.0

    @classmethod
    def of(cls, settings: Settings) -> "AddressLimits":
        return cls(settings.trusted, settings.max_per_address,
                   settings.register_burst, settings.register_per_hour,
                   settings.failed_login_burst, settings.failed_logins_per_hour)

    def exempt(self, host: str) -> bool:
        return trusted(host, self._trusted)

    # -- connections held --------------------------------------------------------------

    def connect(self, host: str, now: float) -> RemoteProtocolError | None:
        """Count a new connection from `host`; the 13/17 to close it with if that is one
        too many (the loop calls disconnect() for it all the same)."""
        key = address_key(host)
        self._open[key] += 1
        limit = self.max_per_address
        if not limit or self._open[key] <= limit or self.exempt(host):
            return None
        return self._refuse(
            ErrorCode.TOO_MANY_CONNECTIONS, key, now, limit,
            f"too many connections from this address ({limit}); close one and try again")

    def disconnect(self, host: str) -> None:
        key = address_key(host)
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]

    def connections(self, host: str) -> int:
        """Connections open from `host`'s address (its /64 for IPv6)."""
        return self._open[address_key(host)]

    # -- 01 and 03 ---------------------------------------------------------------------

    def screen(self, host: str, item: Item, now: float) -> Item:
        """`item` (from a connection not logged in), or the 13 it gets instead."""
        if type(item) in _REGISTRATIONS and self.registrations.burst:
            return self._register(host, item, now)
        if type(item) is ev.Login and self.failures.burst:
            return self._login(host, item, now)
        return item

    def _register(self, host: str, item: Item, now: float) -> Item:
        if self.exempt(host):
            return item
        key = address_key(host)
        wait = self.registrations.wait(key, now)
        if not wait:
            self.registrations.take(key, now)
            return item
        return self._refuse(
            ErrorCode.TOO_MANY_ACCOUNTS, key, now, self.registrations.burst,
            f"too many accounts from this address; try again in {math.ceil(wait / 60)} min")

    def _login(self, host: str, item: Item, now: float) -> Item:
        key = address_key(host)
        wait = self.failures.wait(key, now)
        if not wait or self.exempt(host):
            return item
        return self._refuse(
            ErrorCode.TOO_MANY_FAILED_LOGINS, key, now, self.failures.burst,
            f"too many failed logins from this address; try again in {math.ceil(wait)} s")

    def _refuse(self, code: ErrorCode, key: str, now: float, limit: int,
                reason: str) -> RemoteProtocolError:
        """The 13 to answer, said in the log once a minute for `key`."""
        name, said = LOGGED[code]
        self._log.refused(name, key, now, said.format(limit))
        return RemoteProtocolError(code, reason)

    def failed_login(self, host: str, now: float) -> None:
        """A 03 from `host` was refused 13/04."""
        if self.failures.burst and not self.exempt(host):
            self.failures.take(address_key(host), now)

    # -- housekeeping ------------------------------------------------------------------

    def prune(self, now: float) -> None:
        """Forget full buckets and say what was refused quietly (every PRUNE_EVERY s)."""
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        self.registrations.prune(now)
        self.failures.prune(now)
        self._log.prune(now)
