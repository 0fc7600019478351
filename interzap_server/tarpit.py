"""Connections from banned addresses: held for half a second, then told why and closed.

Knows sockets and time, and of the protocol only the 13 it sends; nothing of
peers, the selector or why an address is banned. The loop hands it each new
connection from an address that FloodBans (limits.py) has banned, wakes up by
next_release() and calls release() each iteration.

Theory of operation: a flooder reconnects as soon as it is cut, or as soon as it
hears a 13. Answering it at once lets it come back thousands of times a second,
each time costing the server an accept, a loop iteration and a close; holding it
silently for the whole ban keeps it away, but keeps an innocent client behind
the same address waiting unanswered just as long. So every connection is held
HOLD seconds, unread, then gets 13/10 with the seconds its ban has left
(PROTOCOL.md 5.7) and is closed: nobody waits more than a second for an answer,
and a flooder comes back at most 1/HOLD times a second per held connection.
(soak/hostile.py, a flooder of 05s logging in again as soon as it reads a 13,
over 8 s: told at once, it came back 33,000 times and the server's CPU went from
20% to 49%; held half a second, 16 times, 19% to 20%.) Holding is bounded per
address and in all; beyond that the 13 and the close come at once. A TLS
connection cannot be told anything before its handshake, which a banned address
is not worth: it is only closed.
"""

import contextlib
import math
import socket
from collections import Counter

from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

HOLD = 0.5
"""Seconds a connection from a banned address is held before its 13/10 and close."""
HOLD_PER_ADDRESS = 4
"""Connections held at once for one banned address."""
HOLD_IN_ALL = 1024
"""Connections held at once in all (each is a file descriptor)."""
DRAIN = 64 * 1024
"""Bytes a client sent that are read (and dropped) before the close: closing with unread
bytes sends a reset, which may destroy the 13 at the client before it is read."""


def refuse(sock: socket.socket, tls: bool, banned_until: float, now: float) -> None:
    """Drop what the client sent, say 13/10 (a TLS connection: nothing) and close."""
    with sock, contextlib.suppress(OSError):  # best effort: the close says it anyway
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.recv(DRAIN)
        if not tls:
            seconds = max(1, math.ceil(banned_until - now))
            sock.send(encode(ev.Error(
                ErrorCode.RATE_LIMITED,
                f"this address was cut for flooding; try again in {seconds} s")))


class Tarpit:
    """Sockets accepted from banned addresses, never read, refused after HOLD seconds."""

    def __init__(self, per_address: int = HOLD_PER_ADDRESS, in_all: int = HOLD_IN_ALL,
                 hold: float = HOLD) -> None:
        self._per_address = per_address
        self._in_all = in_all
        self._hold = hold
        # every hold lasts as long: the dict's order is the order of their ends
        self._held: dict[socket.socket, tuple[str, float, float, bool]] = {}
        """Per socket: its host, the end of its hold, the end of its ban, TLS or not."""
        self._by_host: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, sock: socket.socket, host: str, tls: bool, banned_until: float,
             now: float) -> None:
        """Keep `sock` for HOLD seconds, or refuse it now if too many are held."""
        if self._by_host[host] >= self._per_address or len(self._held) >= self._in_all:
            refuse(sock, tls, banned_until, now)
            return
        self._held[sock] = (host, now + self._hold, banned_until, tls)
        self._by_host[host] += 1

    def next_release(self) -> float | None:
        """When release() next has a connection to refuse; None if none is held."""
        for _, release_at, _, _ in self._held.values():
            return release_at  # the first ends first
        return None

    def release(self, now: float, everything: bool = False) -> None:
        """Refuse the connections held HOLD seconds (at shutdown: every one)."""
        while self._held:
            sock, (host, release_at, banned_until, tls) = next(iter(self._held.items()))
            if release_at > now and not everything:
                return
            del self._held[sock]
            self._by_host[host] -= 1
            if not self._by_host[host]:
                del self._by_host[host]
            refuse(sock, tls, banned_until, now)
