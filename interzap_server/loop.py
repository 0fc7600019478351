"""The event loop: one thread, one selector, non-blocking sockets.

Knows sockets, the selector and time; knows nothing of SQL or of the chat rules,
which it reaches through the Service. Each iteration: select, read every ready
socket and hand its frames to the service inside one batch (a transaction,
which the service may keep open a few iterations), let the service release what
the commit allows, top up sessions catching up on their queue, then try to send
everything queued. EVENT_WRITE is watched only
while a peer has bytes the socket did not take. Once a second a tick closes
connections that never logged in or stopped answering pings. A connection cut
for flooding bans its address unless it is trusted (limits.FloodBans); new
connections from there wait half a second in the tarpit (tarpit.py), then are told.
On a database shared by several nodes the selector also watches the service's
listener, the connection that hears the other nodes (storage/wakeups.py): what it
drains goes to the service first in the iteration, and the queues it woke are read
and sent before the frames are handled; if it is lost, it is tried again when its
retry_in() says, and watched again under its new descriptor. The frames of every
ready socket are read before any is handled: the service looks at them all first
(a node fetches what their 1:1 05s and 12s ask in one statement: lookahead.py).
"""

import logging
import selectors
import signal
import socket
import ssl
import time
from collections.abc import Callable
from types import FrameType

from interzap_server import heap
from interzap_server.addresses import SCREENED, AddressLimits
from interzap_server.doors import Doors
from interzap_server.hearing import Hearing
from interzap_server.limits import FloodBans, TokenBucket
from interzap_server.metrics import Gauge, Metrics, queue_gauges
from interzap_server.metrics_http import MetricsEndpoint
from interzap_server.peer import Peer, Received
from interzap_server.service import Service
from interzap_server.sessions import Link
from interzap_server.settings import Settings
from interzap_server.storage import Census
from interzap_server.tarpit import Tarpit
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

log = logging.getLogger(__name__)

TICK = 1.0
"""Seconds between checks of login and ping deadlines."""
SEND_BUFFER = 64 * 1024
"""Kernel send buffer per connection. Fixed rather than autotuned (up to megabytes), so
that a client that does not read meets the output cap after kilobytes, not megabytes."""
LINGER = 5.0
"""Seconds a closing connection may take to be sent its last frames before it is cut."""
CENSUS_BUDGET = 0.01
"""Seconds a tick may spend counting the queues for the metrics page (storage/census.py):
1% of the loop; a pass over a million queued frames then takes about a minute."""
Ready = list[tuple[selectors.SelectorKey, int]]
"""What select() returned: each key with its events."""


class Server:
    """Bind on construction (so port 0 is known at once), then serve_forever()."""

    def __init__(self, settings: Settings, service: Service,
                 tls: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._service = service
        self._selector = selectors.DefaultSelector()
        self._doors = Doors(self._selector, settings.host, settings.reuse_port, self._arrived)
        if tls is not None and settings.tls_port is None:
            self._doors.open(settings.port, tls)
        else:
            self._doors.open(settings.port, None)
            if tls is not None:
                assert settings.tls_port is not None
                self._doors.open(settings.tls_port, tls)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, self._drain_wakeup)
        self._hearing = Hearing(self._selector, service.listener, service.hear,
                                service.hear_early)
        service.while_waiting(self._hear_meanwhile)
        self._peers: set[Peer] = set()
        self._touched: set[Peer] = set()  # peers with new output or a new state
        self._stopping = False
        self._next_housekeeping = 0.0
        self._next_tick = 0.0
        self._lingering: dict[Peer, float] = {}  # closing peers: since when
        self._bans = FloodBans(settings.flood_ban, settings.trusted)
        self._tarpit = Tarpit()
        self._confirmed: list[int] = []  # queue entries clients confirmed reading
        self._limits = AddressLimits.of(settings)
        self._metrics = Metrics()
        self._census: Census | None = None  # the queues, as last counted
        service.on_commit = self._metrics.commit_seconds
        service.report_failed_logins(self._failed_login)
        self._endpoint = None if settings.metrics_port is None else MetricsEndpoint(
            self._selector, settings.metrics_host, settings.metrics_port, self._metrics_page,
            time.time)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of each listener: the plain one first, then the TLS one if any."""
        return self._doors.addresses

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """(host, port) of the metrics page, if it is served."""
        return None if self._endpoint is None else self._endpoint.address

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
        self._doors.resume_if_due(now)
        ready = self._hear_first(ready, now)
        with self._service.batch(now):
            inbox: list[tuple[Peer, list[Received]]] = []
            for key, mask in ready:
                if isinstance(key.data, Peer):
                    self._ready(key.data, mask, now, inbox)
                else:
                    key.data()
            self._handle(inbox, now)
            retry = self._hearing.retry_in()
            if retry is not None and retry <= 0:
                self._hearing.drain()  # connects the lost listener again
            if self._confirmed:
                self._service.forget_confirmed(self._confirmed)
                self._confirmed = []
            if now >= self._next_housekeeping:
                self._next_housekeeping = now + self._settings.housekeeping_interval
                self._service.housekeep()
            if now >= self._next_tick:
                self._service.watch_accounts()  # the operator's changes (storage/accounts.py)
                self._service.sweep()  # the heartbeat; a node's wake-ups that never went out
                if self._endpoint is not None:
                    self._census = self._service.count_queues(CENSUS_BUDGET)
        if self._hearing.kept:
            self._hearing.drain()  # what was heard during the batch and could not go then
        if now >= self._next_tick:
            self._next_tick = now + TICK
            self._tick(now)
        self._tarpit.release(now)
        self._service.top_up()
        self._flush_all(now)
        heap.between_iterations()  # the batch's objects are gone: a young collection is short

    def _timeout(self) -> float:
        if self._stopping or self._service.wants_top_up():
            return 0
        deadlines = [self._next_housekeeping, self._next_tick]
        commit_due = self._service.commit_due()
        if commit_due is not None:
            deadlines.append(commit_due)
        if self._doors.paused_until is not None:
            deadlines.append(self._doors.paused_until)
        if (held_until := self._tarpit.next_release()) is not None:
            deadlines.append(held_until)
        if (retry := self._hearing.retry_in()) is not None:
            return max(0.0, min(min(deadlines) - time.time(), retry))
        return max(0.0, min(deadlines) - time.time())

    # -- callbacks -------------------------------------------------------------

    def _arrived(self, sock: socket.socket, address: tuple[str, int],
                 tls: ssl.SSLContext | None) -> None:
        """A new connection (doors.py): held in the tarpit if its address is banned."""
        now = time.time()
        banned_for = self._bans.remaining(address[0], now)
        if banned_for:
            self._metrics.banned += 1
            self._tarpit.hold(sock, address[0], tls is not None, now + banned_for, now)
        else:
            self._admit(sock, address[0], address[1], tls, now)

    def _admit(self, sock: socket.socket, host: str, port: int, tls: ssl.SSLContext | None,
               now: float) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        settings = self._settings
        peer = Peer(sock, host, port, settings.output_cap,
                    TokenBucket(settings.rate_limit, settings.rate_burst), now, self._touched,
                    self._metrics.heads)
        self._peers.add(peer)
        self._selector.register(sock, selectors.EVENT_READ, peer)
        self._metrics.accepted += 1
        crowded = self._limits.connect(host, now)  # counted either way: _close uncounts
        limit = settings.max_connections
        if limit and len(self._peers) > limit:
            log.warning("%s: refused, %d connections already", peer.address, limit)
            self._refuse(peer, ErrorCode.SERVER_FULL,
                         f"the server is full ({limit} connections); try again later")
            return
        if crowded is not None:  # said in the log once a minute by the limits, not here
            self._refuse(peer, crowded.code, crowded.reason, loud=False)
            return
        log.debug("%s: connected", peer.address)
        self._service.connect(peer)
        if peer.handshaking:
            peer.handshake()

    def _ready(self, peer: Peer, mask: int, now: float,
               inbox: list[tuple[Peer, list[Received]]]) -> None:
        self._touched.add(peer)
        if peer.handshaking:
            peer.handshake()
            if peer.handshaking:
                return
        if mask & selectors.EVENT_WRITE:
            peer.flush()
        if mask & selectors.EVENT_READ and not peer.closing and not peer.broken:
            self._read_ready(peer, now, inbox)

    def _read_ready(self, peer: Peer, now: float,
                    inbox: list[tuple[Peer, list[Received]]]) -> None:
        items = peer.receive(now)
        if items is None:
            log.debug("%s: left", peer.address)
            self._close(peer)
            return
        inbox.append((peer, items))

    def _handle(self, inbox: list[tuple[Peer, list[Received]]], now: float) -> None:
        """Hand the iteration's frames to the service: all of them to look at first (a
        node of a cluster fetches what they will ask in one statement), then one by one,
        each peer's in order."""
        # lazily: only a node of a cluster looks at them (a lone server pays nothing)
        self._service.prepare((peer, item) for peer, items in inbox for item, _ in items)
        for peer, items in inbox:
            for item, line in items:
                if type(item) in SCREENED and not self._service.is_logged_in(peer):
                    item = self._limits.screen(peer.host, item, now)  # or its 13/16, 13/18
                self._service.handle(peer, item, line)
            self._confirmed += peer.take_confirmed()

    def _hear_meanwhile(self) -> None:
        """Before each round trip of a node's batch: the entries other nodes committed that
        a session here can take at once are sent now, not after the batch (Hearing.early).
        Only written out: closing and watching wait for the iteration's _flush_all."""
        if self._hearing.early():
            for peer in list(self._touched):
                if peer in self._peers and peer.backlog:
                    peer.flush()

    def _hear_first(self, ready: Ready, now: float) -> Ready:
        """A node hears the other nodes before it handles the iteration's frames, and
        sends the entries they woke at once: a wake-up does not wait for the batch.
        Returns the rest of what is ready (without the peers that flush closed)."""
        heard = self._hearing.fd
        if all(key.fd != heard for key, _ in ready):
            return ready
        self._hearing.drain()
        self._service.top_up()
        self._flush_all(now)
        return [(key, mask) for key, mask in ready
                if key.fd != heard and (not isinstance(key.data, Peer) or key.data in self._peers)]

    def _drain_wakeup(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    # -- deadlines -------------------------------------------------------------

    def _tick(self, now: float) -> None:
        """Close what missed a deadline (login, or the answer to a ping); ping the silent;
        end bans that are over; give up on 14s a talking client never answers."""
        settings = self._settings
        self._bans.prune(now)
        self._limits.prune(now)
        if self._endpoint is not None:
            self._endpoint.expire(now)
        for peer in list(self._peers):
            if peer.closing:
                if now - self._lingering.setdefault(peer, now) > LINGER:
                    log.info("%s: did not take its last frames, cut", peer.address)
                    self._close(peer)
                continue
            if not self._service.is_logged_in(peer):
                if settings.login_timeout and now - peer.opened > settings.login_timeout:
                    self._refuse(peer, ErrorCode.TIMEOUT,
                                 f"no login within {settings.login_timeout:g} s")
            elif peer.pinged is not None:
                if now - peer.pinged > settings.ping_timeout:
                    self._refuse(peer, ErrorCode.TIMEOUT,
                                 f"no answer to a ping within {settings.ping_timeout:g} s")
            elif settings.idle_ping and now - peer.heard > settings.idle_ping:
                peer.pinged = now
                peer.ping(now)
            peer.give_up_on_answers(now, settings.ping_timeout)
            self._confirmed += peer.take_confirmed()

    def _refuse(self, peer: Peer, code: ErrorCode, reason: str, loud: bool = True) -> None:
        """Say why, then close once that is written (logged at info level if `loud`)."""
        log.log(logging.INFO if loud else logging.DEBUG, "%s: closing: %s", peer.address,
                reason)
        if peer.handshaking:
            self._close(peer)  # nothing can be said before the TLS handshake is done
            return
        peer.write(encode(ev.Error(code, reason)))
        peer.close_when_flushed()

    # -- output and closing ----------------------------------------------------

    def _flush_all(self, now: float) -> None:
        """Send what was queued this iteration (entries followed by a 14 that will confirm
        them); watch EVENT_WRITE only where bytes remain."""
        touched = list(self._touched)
        self._touched.clear()  # cleared, not replaced: every peer holds this very set
        for peer in touched:
            if peer not in self._peers:
                continue
            peer.cover(now)
            if peer.backlog and not peer.broken:
                peer.flush()
            if peer.broken or (peer.closing and not peer.backlog):
                self._close(peer)
                continue
            wanted = selectors.EVENT_WRITE if peer.wants_write else 0
            if not peer.closing or peer.handshaking:
                wanted |= selectors.EVENT_READ
            key = self._selector.get_key(peer.sock)
            if key.events != wanted:
                self._selector.modify(peer.sock, wanted, peer)

    def _close(self, peer: Peer) -> None:
        if peer not in self._peers:
            return
        self._peers.discard(peer)
        self._lingering.pop(peer, None)
        if peer.flooding and self._bans.ban(peer.host, time.time()):
            log.info("%s: cut for flooding; banning %s for %g s", peer.address, peer.host,
                     self._bans.seconds)
        self._selector.unregister(peer.sock)
        self._service.disconnect(peer)
        self._limits.disconnect(peer.host)
        peer.close()

    # -- metrics ---------------------------------------------------------------------

    def _failed_login(self, link: Link) -> None:
        """The service refused a 03 with 13/04: charged to the peer's address."""
        assert isinstance(link, Peer)  # the only links the loop hands the service
        self._limits.failed_login(link.host, time.time())

    def _metrics_page(self) -> bytes:
        peers = self._peers
        gauges: list[Gauge] = [
            ("interzap_connections", "Connections open.", len(peers)),
            ("interzap_logged_in", "Connections logged in.",
             sum(1 for peer in peers if self._service.is_logged_in(peer))),
            ("interzap_output_bytes", "Bytes waiting to be written to connections.",
             sum(peer.backlog for peer in peers)),
            ("interzap_banned_addresses", "Addresses banned for flooding.", len(self._bans)),
            ("interzap_held_connections", "Connections from banned addresses being held.",
             len(self._tarpit)),
        ]
        if self._census is not None:
            gauges += queue_gauges(self._census.queued, self._census.largest, CENSUS_BUDGET)
        return self._metrics.render(gauges)

    def _shut_down(self) -> None:
        """Stop accepting, give every peer one last non-blocking write, close everything."""
        self._doors.close()
        self._tarpit.release(time.time(), everything=True)
        if self._endpoint is not None:
            self._endpoint.close()
        self._service.settle()
        self._hearing.close()
        for peer in list(self._peers):
            peer.flush()
            self._close(peer)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        log.info("stopped")
