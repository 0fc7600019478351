"""The listening sockets: where connections come in, a burst at a time.

A flood of connects must not starve the reads of the connections already in,
so a wake-up accepts at most ACCEPT_BURST; and a server out of file descriptors
must not spin on a listener that stays readable, so it stops watching its
listeners for ACCEPT_PAUSE. What happens to a new socket (the tarpit, a peer)
is the loop's: it is handed over through `arrived`.

Knows listening sockets and the selector; knows nothing of peers or frames.
"""

import errno
import logging
import selectors
import socket
import ssl
import time
from collections.abc import Callable
from functools import partial

log = logging.getLogger(__name__)

ACCEPT_BURST = 64
"""Connections accepted per wake-up, so that a flood of connects cannot starve reads."""
ACCEPT_PAUSE = 0.25
"""Seconds to stop accepting after running out of file descriptors (instead of spinning)."""
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

Arrived = Callable[[socket.socket, tuple[str, int], ssl.SSLContext | None], None]
"""Told of each accepted socket, its peer's address and its listener's TLS context."""


class Doors:
    """The server's listeners (plain, and TLS if asked), watched by the loop's selector."""

    def __init__(self, selector: selectors.BaseSelector, host: str, reuse_port: bool,
                 arrived: Arrived) -> None:
        self._selector = selector
        self._host = host
        self._reuse_port = reuse_port
        self._arrived = arrived
        self._listeners: list[tuple[socket.socket, ssl.SSLContext | None]] = []
        self.paused_until: float | None = None  # out of descriptors: not accepting until

    def open(self, port: int, tls: ssl.SSLContext | None) -> None:
        """Listen on `port` (0: any free one), TLS on it if `tls`."""
        listener = socket.create_server((self._host, port), backlog=1024,
                                        reuse_port=self._reuse_port)
        listener.setblocking(False)
        self._listeners.append((listener, tls))
        self._watch(listener, tls)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of each listener, in the order opened."""
        return [listener.getsockname()[:2] for listener, _ in self._listeners]

    def resume_if_due(self, now: float) -> None:
        """Watch the listeners again once a pause is over."""
        if self.paused_until is not None and now >= self.paused_until:
            self.paused_until = None
            for listener, tls in self._listeners:
                self._watch(listener, tls)

    def close(self) -> None:
        for listener, _ in self._listeners:
            if self.paused_until is None:
                self._selector.unregister(listener)
            listener.close()

    def _watch(self, listener: socket.socket, tls: ssl.SSLContext | None) -> None:
        self._selector.register(listener, selectors.EVENT_READ,
                                partial(self._accept, listener, tls))

    def _accept(self, listener: socket.socket, tls: ssl.SSLContext | None) -> None:
        for _ in range(ACCEPT_BURST):
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    log.error("accept failed (%s); not accepting for %.2f s", exc, ACCEPT_PAUSE)
                    self._pause(time.time())
                    return
                log.warning("accept failed: %s", exc)
                continue
            self._arrived(sock, address[:2], tls)

    def _pause(self, now: float) -> None:
        if self.paused_until is None:
            for listener, _ in self._listeners:
                self._selector.unregister(listener)
        self.paused_until = now + ACCEPT_PAUSE
