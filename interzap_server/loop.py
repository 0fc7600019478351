"""The event loop: one thread, one selector, non-blocking sockets.

Knows sockets and the selector; knows nothing of SQL or of the chat rules,
which it reaches through the Service. Each iteration: select, read every ready
socket and hand its frames to the service inside one batch (one transaction),
let the service release what the commit allows, top up sessions catching up
on their queue, then try to send everything queued. EVENT_WRITE is watched
only while a peer has bytes the socket did not take.
"""

import logging
import selectors
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

from interzap_server.peer import Peer
from interzap_server.service import Service
from interzap_server.settings import Settings

log = logging.getLogger(__name__)

ACCEPT_BURST = 64
"""Connections accepted per wake-up, so that a flood of connects cannot starve reads."""


class Server:
    """Bind on construction (so port 0 is known at once), then serve_forever()."""

    def __init__(self, settings: Settings, service: Service) -> None:
        self._settings = settings
        self._service = service
        self._selector = selectors.DefaultSelector()
        self._listener = socket.create_server((settings.host, settings.port), backlog=1024,
                                              reuse_port=False)
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, self._drain_wakeup)
        self._peers: set[Peer] = set()
        self._touched: set[Peer] = set()  # peers with new output or a new state
        self._stopping = False
        self._next_housekeeping = 0.0
        self._written: list[int] = []

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return host, port

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Ask the loop to finish its iteration and shut down (safe in a signal handler)."""
        self._stopping = True

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Run until SIGINT or SIGTERM; `on_ready` runs once the signals are handled."""
        previous_fd = signal.set_wakeup_fd(self._wake_w.fileno())
        handlers = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if on_ready is not None:
                on_ready()
            while not self._stopping:
                self._iterate()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_fd)
            self._shut_down()

    def _iterate(self) -> None:
        ready = self._selector.select(self._timeout())
        now = time.time()
        with self._service.batch(int(now)):
            if self._written:
                self._service.forget_written(self._written)
                self._written = []
            for key, mask in ready:
                if isinstance(key.data, Peer):
                    self._ready(key.data, mask)
                else:
                    key.data()
            if now >= self._next_housekeeping:
                self._next_housekeeping = now + self._settings.housekeeping_interval
                self._service.housekeep()
        self._service.top_up()
        self._flush_all()

    def _timeout(self) -> float | None:
        if self._stopping or self._service.wants_top_up():
            return 0
        return max(0.0, self._next_housekeeping - time.time())

    # -- callbacks -------------------------------------------------------------

    def _accept(self) -> None:
        for _ in range(ACCEPT_BURST):
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.error("accept failed: %s", exc)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            peer = Peer(sock, f"{address[0]}:{address[1]}", self._settings.output_cap,
                        self._touched)
            self._peers.add(peer)
            self._selector.register(sock, selectors.EVENT_READ, peer)
            log.debug("%s: connected", peer.address)
            self._service.connect(peer)

    def _ready(self, peer: Peer, mask: int) -> None:
        self._touched.add(peer)
        if mask & selectors.EVENT_WRITE:
            self._write_ready(peer)
        if mask & selectors.EVENT_READ and not peer.closing and not peer.broken:
            self._read_ready(peer)

    def _read_ready(self, peer: Peer) -> None:
        items = peer.receive()
        if items is None:
            log.debug("%s: left", peer.address)
            self._close(peer)
            return
        for item in items:
            self._service.handle(peer, item)

    def _write_ready(self, peer: Peer) -> None:
        peer.flush()
        self._written.extend(peer.take_written())

    def _drain_wakeup(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    # -- output and closing ----------------------------------------------------

    def _flush_all(self) -> None:
        """Send what was queued this iteration; watch EVENT_WRITE only where bytes remain."""
        touched = list(self._touched)
        self._touched.clear()  # cleared, not replaced: every peer holds this very set
        for peer in touched:
            if peer not in self._peers:
                continue
            if peer.backlog and not peer.broken:
                self._write_ready(peer)
            if peer.broken or (peer.closing and not peer.backlog):
                self._close(peer)
                continue
            wanted = selectors.EVENT_WRITE if peer.backlog else 0
            if not peer.closing:
                wanted |= selectors.EVENT_READ
            key = self._selector.get_key(peer.sock)
            if key.events != wanted:
                self._selector.modify(peer.sock, wanted, peer)

    def _close(self, peer: Peer) -> None:
        if peer not in self._peers:
            return
        self._peers.discard(peer)
        self._selector.unregister(peer.sock)
        self._service.disconnect(peer)
        peer.close()

    def _shut_down(self) -> None:
        """Stop accepting, give every peer one last non-blocking write, close everything."""
        self._selector.unregister(self._listener)
        self._listener.close()
        for peer in list(self._peers):
            peer.flush()
            self._close(peer)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        log.info("stopped")
