"""One TCP connection: its socket, frame buffer and output buffer.

Bytes in, events (or the protocol errors they were) out; bytes queued, bytes
sent. Knows no chat rules and nothing of the selector: the loop decides when
to read and flush, and closes a peer whose `broken` is set.
"""

import logging
import socket
from collections import deque

from shared import events as ev
from shared.codec import Side, decode
from shared.codes import MAX_FRAME, ErrorCode
from shared.errors import RemoteProtocolError
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer

log = logging.getLogger(__name__)

RECV_SIZE = 65536


class Peer:
    """A connection; `write` may be called at any time, `flush` when the socket may take bytes."""

    __slots__ = ("_frames", "_marks", "_out", "_sent", "_touched", "_written", "address",
                 "broken", "closing", "output_cap", "sock")

    def __init__(self, sock: socket.socket, address: str, output_cap: int,
                 touched: set["Peer"]) -> None:
        self.sock = sock
        self._touched = touched  # the loop's set of peers with output or a state change
        self.address = address
        self.output_cap = output_cap
        self.closing = False  # read nothing more; close when the output is flushed
        self.broken = False  # close now, dropping the output
        self._frames = FrameBuffer()
        self._out = bytearray()
        self._sent = 0  # bytes written to the socket since the start
        self._marks: deque[tuple[int, int]] = deque()  # (stream offset, entry) to report
        self._written: list[int] = []

    @property
    def backlog(self) -> int:
        return len(self._out)

    def receive(self) -> list[ev.Event | RemoteProtocolError] | None:
        """What one read brought: events and refused frames, in order; None if the peer left."""
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError as exc:
            log.info("%s: read failed: %s", self.address, exc)
            return None
        if not data:
            return None
        self._frames.feed(data)
        items: list[ev.Event | RemoteProtocolError] = []
        while (line := self._frames.next_frame()) is not NEED_MORE:
            if line is TOO_LONG:
                items.append(RemoteProtocolError(
                    ErrorCode.TOO_LONG,
                    f"a frame holds at most {MAX_FRAME} bytes; dropped up to the next LF"))
                continue
            assert isinstance(line, bytes)
            try:
                items.append(decode(line, Side.CLIENT))
            except RemoteProtocolError as exc:
                items.append(exc)
        return items

    def write(self, data: bytes, entry: int | None = None) -> None:
        """Queue bytes; `entry` is reported by take_written() once they are on the socket."""
        if self.broken:
            return
        self._touched.add(self)
        self._out += data
        if entry is not None:
            self._marks.append((self._sent + len(self._out), entry))
        if len(self._out) > self.output_cap:
            log.warning("%s: output cap of %d bytes exceeded, disconnecting",
                        self.address, self.output_cap)
            self.broken = True

    def flush(self) -> None:
        """Write what the socket takes now, without blocking."""
        if not self._out or self.broken:
            return
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.info("%s: write failed: %s", self.address, exc)
            self.broken = True
            self._touched.add(self)
            return
        del self._out[:sent]
        self._sent += sent
        while self._marks and self._marks[0][0] <= self._sent:
            self._written.append(self._marks.popleft()[1])

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
