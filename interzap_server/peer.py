"""One TCP connection: its socket (plain or TLS), frame buffer, output buffer and flood control.

Bytes in, events (or the protocol errors they were) out, each with its line;
bytes queued, bytes sent; which queue entries the client has confirmed reading (see Peer.ping).
Knows no chat rules and nothing of the selector: the loop decides when
to read and flush, watches what `wants_write` says, and closes a peer whose
`broken` is set, or whose `closing` is set once its output is gone.

TLS: the socket is wrapped with do_handshake_on_connect=False and the handshake
is driven by the loop's readiness events (SSLWantRead/WriteError say which), so
a slow or broken handshake never blocks anyone else.
"""

import logging
import socket
import ssl
from collections import defaultdict

from interzap_server.limits import TokenBucket
from interzap_server.metrics import HEAD, Heads
from shared import events as ev
from shared.codec import CLIENT, decode, encode
from shared.codes import MAX_FRAME, ErrorCode
from shared.errors import RemoteProtocolError
from shared.framebuffer import TOO_LONG, FrameBuffer, Status

log = logging.getLogger(__name__)

RECV_SIZE = 65536
PING = encode(ev.Ping())
PONG_LINE = encode(ev.Pong())[:-1]
_AGAIN = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

Received = tuple[ev.Event | RemoteProtocolError, bytes]
"""A frame from the client: its event (or the 13 its line earned), and its line without
the LF, kept for a rule that relays it (a 05 becomes its 06); b"" if there was none."""


class Peer:
    """A connection; `write` may be called at any time, `flush` when the socket may take bytes."""

    __slots__ = ("_awaiting", "_confirmed", "_frames", "_handshake_wants_write", "_out",
                 "_pings", "_pongs", "_touched", "_uncovered", "address", "broken", "closing",
                 "counted", "flooding", "handshaking", "heard", "host", "limits", "opened",
                 "output_cap", "pinged", "sock")

    def __init__(self, sock: socket.socket, host: str, port: int, output_cap: int,
                 limits: TokenBucket, now: float, touched: set["Peer"],
                 counted: Heads | None = None) -> None:
        self.sock = sock
        self.counted = defaultdict(int) if counted is None else counted  # the metrics' heads
        self.host = host
        self.address = f"{host}:{port}"
        self.output_cap = output_cap
        self.limits = limits
        self.opened = self.heard = now  # when it connected; when it last sent anything
        self.pinged: float | None = None  # when we sent a 14 not yet followed by any input
        self.closing = False  # read nothing more; close when the output is flushed
        self.broken = False  # close now, dropping the output
        self.flooding = False  # cut for sending too fast
        self.handshaking = isinstance(sock, ssl.SSLSocket)
        self._handshake_wants_write = False
        self._touched = touched  # the loop's set of peers with output or a state change
        self._frames = FrameBuffer()
        self._out = bytearray()
        # Confirming entries (see Peer.ping): entries queued since the last 14; for each
        # 14 sent after entries, (its number, when, those entries); 14s sent, 15s read;
        # entries confirmed and not yet taken.
        self._uncovered: list[int] = []
        self._awaiting: list[tuple[int, float, list[int]]] = []  # short: a list, not a deque
        self._pings = self._pongs = 0
        self._confirmed: list[int] = []

    @property
    def backlog(self) -> int:
        return len(self._out)

    @property
    def wants_write(self) -> bool:
        if self.handshaking:
            return self._handshake_wants_write
        return bool(self._out)

    def handshake(self) -> None:
        """Advance a TLS handshake as far as the socket allows."""
        assert isinstance(self.sock, ssl.SSLSocket)
        self._touched.add(self)
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._handshake_wants_write = False
        except ssl.SSLWantWriteError:
            self._handshake_wants_write = True
        except (ssl.SSLError, OSError) as exc:
            log.info("%s: TLS handshake failed: %s", self.address, exc)
            self.broken = True
        else:
            self.handshaking = False
            log.debug("%s: TLS %s established", self.address, self.sock.version())

    def receive(self, now: float) -> list[Received] | None:
        """What the socket has: events and refused frames, in order; None if the peer left."""
        chunks = []
        try:
            chunks.append(self.sock.recv(RECV_SIZE))
            # TLS may hold decrypted bytes that select() cannot see: take them now
            while isinstance(self.sock, ssl.SSLSocket) and chunks[-1] and self.sock.pending():
                chunks.append(self.sock.recv(RECV_SIZE))
        except _AGAIN:
            pass
        except OSError as exc:
            log.info("%s: read failed: %s", self.address, exc)
            return None
        if not chunks:
            return []
        if not chunks[-1]:
            return None
        self.heard = now
        self.pinged = None
        self._frames.feed(b"".join(chunks))
        return self._take_frames(now)

    def _take_frames(self, now: float) -> list[Received]:
        items: list[Received] = []
        for line in self._frames.frames():
            if line == PONG_LINE:  # answers a 14: nothing to decode, never rate-limited
                self._answered()
                continue
            item = self._decode(line)
            # a refused line costs a token too: a flood of garbage is a flood
            if self.limits.admit(item, now):
                items.append((item, line if isinstance(line, bytes) else b""))
                continue
            items.append((RemoteProtocolError(
                ErrorCode.RATE_LIMITED,
                f"more than {self.limits.rate:g} frames a second; this one was dropped"), b""))
            if self.limits.abusive:
                log.warning("%s: flooding, disconnecting", self.address)
                self.flooding = True
                self.close_when_flushed()
                break
        return items

    @staticmethod
    def _decode(line: bytes | Status) -> ev.Event | RemoteProtocolError:
        if line is TOO_LONG:
            return RemoteProtocolError(
                ErrorCode.TOO_LONG,
                f"a frame holds at most {MAX_FRAME} bytes; dropped up to the next LF")
        assert isinstance(line, bytes)
        try:
            return decode(line, CLIENT)
        except RemoteProtocolError as exc:
            return exc

    def strike(self) -> None:
        """Count a free frame that did nothing (a 12 for no queued 06) against the limit."""
        if not self.limits.admit(None, self.heard) and self.limits.abusive:
            log.warning("%s: flooding with useless frames, disconnecting", self.address)
            self.flooding = True
            self.close_when_flushed()

    def write(self, data: bytes, entry: int | None = None) -> None:
        """Queue one whole frame (counted by its head); `entry` is reported by
        take_confirmed() once the client has read it."""
        if self.broken:
            return
        self._touched.add(self)
        self._out += data
        self.counted[data[:HEAD]] += 1
        if entry is not None:
            self._uncovered.append(entry)

    # -- confirming entries ------------------------------------------------------------
    #
    # Bytes the kernel took are not bytes the client read: if the server dies, the
    # kernel resets the connection and drops what it had not delivered. So an entry
    # (a 07, 09 or 11, which the client does not acknowledge) stays queued until the
    # client answers a 14 sent after it: a 15 answers the oldest 14 not yet answered,
    # and the client read everything before that 14.

    def ping(self, now: float) -> None:
        """Send a 14; its 15 confirms every entry queued before it."""
        self.write(PING)
        self._pings += 1
        if self._uncovered:
            self._awaiting.append((self._pings, now, self._uncovered))
            self._uncovered = []

    def cover(self, now: float) -> None:
        """Follow the entries queued since the last 14 with a 14 (once per loop iteration)."""
        if self._uncovered and not self.closing and not self.handshaking:
            self.ping(now)

    def _answered(self) -> None:
        self._pongs = min(self._pongs + 1, self._pings)  # a 15 that answers nothing: ignored
        while self._awaiting and self._awaiting[0][0] <= self._pongs:
            self._confirmed += self._awaiting.pop(0)[2]

    def give_up_on_answers(self, now: float, timeout: float) -> None:
        """Confirm entries whose 14 went unanswered for `timeout` s while the client kept
        talking: a client that never answers 14s would otherwise get them at every login."""
        while self._awaiting and self.heard > self._awaiting[0][1] \
                and now - self._awaiting[0][1] > timeout:
            self._confirmed += self._awaiting.pop(0)[2]

    def take_confirmed(self) -> list[int]:
        """Entries the client has confirmed reading since the last call."""
        confirmed, self._confirmed = self._confirmed, []
        return confirmed

    def flush(self) -> None:
        """Write what the socket takes now, without blocking; cut a peer over its output cap.

        The cap is checked after the socket has taken what it could, so only
        bytes the client has not read count, not a burst made in one iteration.
        """
        if not self._out or self.broken or self.handshaking:
            return
        try:
            sent = self.sock.send(self._out)
        except _AGAIN:
            sent = 0
        except OSError as exc:
            log.info("%s: write failed: %s", self.address, exc)
            self.broken = True
            self._touched.add(self)
            return
        del self._out[:sent]
        if len(self._out) > self.output_cap:
            log.warning("%s: more than %d bytes unread, disconnecting",
                        self.address, self.output_cap)
            self.broken = True

    def close_when_flushed(self) -> None:
        self.closing = True
        self._touched.add(self)

    def close(self) -> None:
        self.broken = True
        self._out.clear()
        self.sock.close()
