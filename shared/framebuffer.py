"""Turns a stream of bytes into frame lines: feed(bytes), then next_frame() until NEED_MORE
(or frames(), every complete one at once).

Theory of operation: frames end at the LF byte (0x0A), which never occurs inside
a multi-byte UTF-8 character, so we split bytes and leave decoding to codec.py.
`_scanned` remembers how far the LF search got, so bytes are never rescanned;
the consumed prefix is dropped only after a whole frame. A line longer than the
limit is reported once as TOO_LONG, then discarded up to and including its LF
(the "discarding" state) while bytes arrive, so memory stays bounded.
"""

from collections.abc import Sequence
from enum import Enum, auto

from shared.codes import MAX_FRAME


class Status(Enum):
    NEED_MORE = auto()
    """No complete frame yet: feed more bytes."""
    TOO_LONG = auto()
    """A line passed the limit; it is being thrown away up to its LF."""


NEED_MORE = Status.NEED_MORE
TOO_LONG = Status.TOO_LONG

_LF = 0x0A
_CR = 0x0D


class FrameBuffer:
    """Bytes in, frame lines out (without LF, and without a CR just before it)."""

    __slots__ = ("_buffer", "_discarding", "_limit", "_scanned", "_start")

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._start = 0  # where the next frame begins
        self._scanned = 0  # no LF in _buffer[_start:_scanned]
        self._discarding = False
        self._limit = limit

    def feed(self, data: bytes) -> None:
        """Append bytes read from the connection."""
        if self._discarding and len(self._buffer) == self._start:
            cut = data.find(b"\n")
            if cut < 0:
                return  # still inside the over-long line: nothing to keep
            self._discarding = False
            data = data[cut + 1:]
        self._buffer += data

    def pending(self) -> int:
        """Bytes held that are not yet part of a returned frame."""
        return len(self._buffer) - self._start

    def next_frame(self) -> bytes | Status:
        """The next complete frame, or NEED_MORE, or TOO_LONG (reported once per long line)."""
        buffer = self._buffer
        lf = buffer.find(_LF, self._scanned)
        if self._discarding:
            if lf < 0:
                self._drop(len(buffer))
                return NEED_MORE
            self._discarding = False
            self._drop(lf + 1)
            return self.next_frame()
        if lf < 0:
            self._scanned = len(buffer)
            if self._too_long(len(buffer)):
                self._discarding = True
                self._drop(len(buffer))
                return TOO_LONG
            self._compact()
            return NEED_MORE
        end = lf - 1 if lf > self._start and buffer[lf - 1] == _CR else lf
        if end - self._start > self._limit:
            self._drop(lf + 1)
            return TOO_LONG
        frame = bytes(buffer[self._start:end])
        self._start = self._scanned = lf + 1
        return frame

    def frames(self) -> list[bytes | Status]:
        """Every frame next_frame() would return, one by one, before NEED_MORE.

        The complete lines are cut out with one split instead of a search and two
        copies each (a server reads dozens of frames per recv under load); the
        rest (an unfinished line, the discarding state) is next_frame()'s.
        """
        found: list[bytes | Status] = []
        last = -1 if self._discarding else self._buffer.rfind(_LF, self._scanned)
        if last >= 0:
            found += self._lines(last)
        while (frame := self.next_frame()) is not NEED_MORE:
            found.append(frame)
        return found

    def _lines(self, last: int) -> Sequence[bytes | Status]:
        """The complete lines up to the LF at `last`, consumed: as next_frame() gives them."""
        chunk = bytes(self._buffer[self._start:last])
        self._start = self._scanned = last + 1
        lines = chunk.split(b"\n")
        if b"\r" in chunk:  # a CR just before an LF is not part of the frame
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        if max(map(len, lines)) <= self._limit:
            return lines
        return [line if len(line) <= self._limit else TOO_LONG for line in lines]

    def _too_long(self, end: int) -> bool:
        """Whether the unfinished line in _buffer[_start:end] can no longer fit."""
        size = end - self._start
        if size > self._limit + 1:
            return True
        # limit + 1 bytes fit only if the last one is the CR of a coming CR LF
        return size == self._limit + 1 and self._buffer[end - 1] != _CR

    def _drop(self, end: int) -> None:
        """Forget everything before `end`."""
        del self._buffer[:end]
        self._start = self._scanned = 0

    def _compact(self) -> None:
        """Drop whole frames already returned, keeping the unfinished line."""
        if self._start:
            del self._buffer[:self._start]
            self._scanned -= self._start
            self._start = 0
