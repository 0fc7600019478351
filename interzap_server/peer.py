"""One TCP connection: its socket (plain or TLS), frame buffer, output buffer and flood control.

Bytes in, events (or the protocol errors they were) out; bytes queued, bytes
sent. Knows no chat rules and nothing of the selector: the loop decides when
to read and flush, watches what `wants_write` says, and closes a peer whose
`broken` is set, or whose `closing` is set once its output is gone.

TLS: the socket is wrapped with do_handshake_on_connect=False and the handshake
is driven by the loop's readiness events (SSLWantRead/WriteError say which), so
a slow or broken handshake never blocks anyone else.
"""

import logging
import socket
import ssl
from collections import deque

from interzap_server.limits import TokenBucket
from shared import events as ev
from shared.codec import Side, decode
from shared.codes import MAX_FRAME, ErrorCode
from shared.errors import RemoteProtocolError
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer, Status

log = logging.getLogger(__name__)

RECV_SIZE = 65536
_AGAIN = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Peer:
    """A connection; `write` may be called at any time, `flush` when the socket may take bytes."""

    __slots__ = ("_frames", "_handshake_wants_write", "_marks", "_out", "_sent", "_touched",
                 "_written", "address", "broken", "closing", "handshaking", "heard", "limits",
                 "opened", "output_cap", "pinged", "sock")

    def __init__(self, sock: socket.socket, address: str, output_cap: int,
                 limits: TokenBucket, now: float, touched: set["Peer"]) -> None:
        self.sock = sock
        self.address = address
        self.output_cap = output_cap
        self.limits = limits
        self.opened = self.heard = now  # when it connected; when it last sent anything
        self.pinged: float | None = None  # when we sent a 14 not yet followed by any input
        self.closing = False  # read nothing more; close when the output is flushed
        self.broken = False  # close now, dropping the output
        self.handshaking = isinstance(sock, ssl.SSLSocket)
        self._handshake_wants_write = False
        self._touched = touched  # the loop's set of peers with output or a state change
        self._frames = FrameBuffer()
        self._out = bytearray()
        self._sent = 0  # bytes written to the socket since the start
        self._marks: deque[tuple[int, int]] = deque()  # (stream offset, entry) to report
        self._written: list[int] = []

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

    def receive(self, now: float) -> list[ev.Event | RemoteProtocolError] | None:
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

    def _take_frames(self, now: float) -> list[ev.Event | RemoteProtocolError]:
        items: list[ev.Event | RemoteProtocolError] = []
        while (line := self._frames.next_frame()) is not NEED_MORE:
            item = self._decode(line)
            # a refused line costs a token too: a flood of garbage is a flood
            if self.limits.admit(item, now):
                items.append(item)
                continue
            items.append(RemoteProtocolError(
                ErrorCode.RATE_LIMITED,
                f"more than {self.limits.rate:g} frames a second; this one was dropped"))
            if self.limits.abusive:
                log.warning("%s: flooding, disconnecting", self.address)
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
            return decode(line, Side.CLIENT)
        except RemoteProtocolError as exc:
            return exc

    def strike(self) -> None:
        """Count a free frame that did nothing (a 12 for no queued 06) against the limit."""
        if not self.limits.admit(None, self.heard) and self.limits.abusive:
            log.warning("%s: flooding with useless frames, disconnecting", self.address)
            self.close_when_flushed()

    def write(self, data: bytes, entry: int | None = None) -> None:
        """Queue bytes; `entry` is reported by take_written() once they are on the socket."""
        if self.broken:
            return
        self._touched.add(self)
        self._out += data
        if entry is not None:
            self._marks.append((self._sent + len(self._out), entry))

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
        self._sent += sent
        while self._marks and self._marks[0][0] <= self._sent:
            self._written.append(self._marks.popleft()[1])
        if len(self._out) > self.output_cap:
            log.warning("%s: more than %d bytes unread, disconnecting",
                        self.address, self.output_cap)
            self.broken = True

    def take_written(self) -> list[int]:
        """Entries whose bytes have been written since the last call."""
        written, self._written = self._written, []
        return written

    def close_when_flushed(self) -> None:
        self.closing = True
        self._touched.add(self)

    def close(self) -> None:
        self.broken = True
        self._out.clear()
        self.sock.close()
