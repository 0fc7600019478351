"""Connections from banned addresses: held unanswered until the ban ends, then refused.

Knows sockets and time; the loop hands it each new connection from an address
that FloodBans (limits.py) has banned. Refusing such a connection at once lets a
flooder reconnect at once, thousands of times a second, each costing the server
an accept, a loop iteration and a close; holding it costs one descriptor while
the flooder waits. Holding is bounded per address and in all, and beyond that a
connection is refused at once.
"""

import contextlib
import math
import socket
from collections import Counter

from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

HOLD_PER_ADDRESS = 4
"""Connections held at once for one banned address."""
HOLD_IN_ALL = 1024
"""Connections held at once in all (each is a file descriptor)."""


def refuse(sock: socket.socket, tls: bool, reason: str) -> None:
    """Say 13/10 (best effort: nothing can be said before a TLS handshake) and close."""
    with sock:
        if tls:
            return
        sock.setblocking(False)
        with contextlib.suppress(OSError):  # the close says it anyway
            sock.send(encode(ev.Error(ErrorCode.RATE_LIMITED, reason)))


class Tarpit:
    """Sockets accepted from banned addresses, never read, answered when the ban ends."""

    def __init__(self, per_address: int = HOLD_PER_ADDRESS, in_all: int = HOLD_IN_ALL) -> None:
        self._per_address = per_address
        self._in_all = in_all
        self._held: dict[socket.socket, tuple[str, float, bool]] = {}  # host, until, tls
        self._by_host: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, sock: socket.socket, host: str, tls: bool, until: float, now: float) -> None:
        """Keep `sock` until `until` (the end of its address's ban), or refuse it now if
        too many are held."""
        if self._by_host[host] >= self._per_address or len(self._held) >= self._in_all:
            refuse(sock, tls, "this address was cut for flooding; "
                              f"try again in {math.ceil(until - now)} s")
            return
        self._held[sock] = (host, until, tls)
        self._by_host[host] += 1

    def release(self, now: float) -> None:
        """Refuse the held connections whose ban is over (at shutdown: now=math.inf)."""
        for sock, (host, until, tls) in list(self._held.items()):
            if until <= now:
                del self._held[sock]
                self._by_host[host] -= 1
                if not self._by_host[host]:
                    del self._by_host[host]
                refuse(sock, tls, "this address was cut for flooding; you may connect again")
