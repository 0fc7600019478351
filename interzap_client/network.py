"""asyncio glue between a TCP socket and the shared codec: bytes in, events out, and back.

One connection at a time, to one server of a list (servers.py): when it
drops, or a dial fails, the next server is dialled at once, and only once
every server has failed in a row does the connection back off
(exponentially, capped). Bytes read go through a FrameBuffer and
codec.decode(line, SERVER); events to send go through codec.encode. Pings
(14) are answered here, and a silent server is pinged, then given up on, so a
dead link is noticed (and the next server used).

Frames we start ourselves leave at the pace of a Pacer (pacing.py: half the
server's default flood limit to begin with, PROTOCOL.md 5.7, slower once a
13/10 says so; 12 and 15 are free), so a long outbox after a night offline
leaves steadily instead of being refused. Frames still waiting for the pacer
can be taken back (withdraw), so nothing more leaves after a refusal until
the session says so. Refuses to know about logins, outboxes and chats: the
session is told "up", each event, and "down", and decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence

from interzap_client.pacing import Pacer, stated_limit
from interzap_client.servers import Address, Rotation
from shared import codec
from shared import events as ev
from shared.errors import RemoteProtocolError
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer

log = logging.getLogger(__name__)

READ_CHUNK = 65536
KEEPALIVE = 30.0
"""Seconds of silence before we ping the server, and again before giving up on it."""


def dial_error(exc: OSError) -> str:
    """Why a connect failed, in words: "connection refused", not "Connect call failed"."""
    if exc.errno is not None and exc.errno > 0:  # a resolver's gaierror has its own words
        return os.strerror(exc.errno).lower()
    return exc.strerror or str(exc) or type(exc).__name__


class Connection:
    """Keeps one connection to one of `servers` open while running; calls back on every
    change."""

    def __init__(
        self,
        servers: Sequence[Address],
        on_event: Callable[[ev.Event], None],
        on_up: Callable[[], None],
        on_down: Callable[[str], None],
        on_garbage: Callable[[str], None] = lambda reason: None,
        on_unreachable: Callable[[str], None] = lambda reason: None,
        min_delay: float = 0.1,
        max_delay: float = 3.0,
        keepalive: float = KEEPALIVE,
    ) -> None:
        self.servers = Rotation(servers)
        self._on_event, self._on_up, self._on_down = on_event, on_up, on_down
        self._on_garbage = on_garbage
        self._on_unreachable = on_unreachable  # the first failed dial of a series, at once
        self._min_delay, self._max_delay = min_delay, max_delay
        self._delay = min_delay
        self._keepalive = keepalive
        self._writer: asyncio.StreamWriter | None = None
        self._stopped = False
        self._wake = asyncio.Event()  # cuts a backoff sleep short (close, pause)
        self.pacer = Pacer()  # kept across reconnects: the server's limit stays the same
        self._paced: deque[ev.Event] = deque()  # waiting for a token, in order
        self._timer: asyncio.TimerHandle | None = None  # the next _release
        self._idle = asyncio.Event()  # set while nothing waits for a token
        self._idle.set()

    @property
    def server(self) -> Address:
        """The server in use (or dialled next)."""
        return self.servers.current

    @property
    def connected(self) -> bool:
        return self._writer is not None

    @property
    def stopped(self) -> bool:
        return self._stopped

    def send(self, event: ev.Event) -> bool:
        """Send one frame (now, or paced, in order); False while there is no connection."""
        if self._writer is None or self._writer.is_closing():
            return False
        if isinstance(event, ev.RATE_FREE):
            self._writer.write(codec.encode(event))
        else:
            self._paced.append(event)
            self._idle.clear()
            if self._timer is None:
                self._release()
        return True

    def _release(self) -> None:
        """Write what the pacer allows, in order; come back when the next frame is due."""
        self._timer = None
        loop = asyncio.get_running_loop()
        while self._paced and self._writer is not None:
            delay = self.pacer.wait(loop.time())
            if delay > 0:
                self._timer = loop.call_later(delay, self._release)
                return
            self._writer.write(codec.encode(self._paced.popleft()))
        if not self._paced:
            self._idle.set()

    def withdraw(self, kinds: tuple[type[ev.Event], ...]) -> list[ev.Event]:
        """Take back the frames of these kinds still waiting for the pacer, in order."""
        taken = [frame for frame in self._paced if isinstance(frame, kinds)]
        self._paced = deque(frame for frame in self._paced if not isinstance(frame, kinds))
        if not self._paced:
            self._idle.set()
        return taken

    def slow_down(self, reason: str) -> float:
        """A 13/10 with this reason: pace our frames slower; the new rate (frames a second)."""
        self.pacer.refused(asyncio.get_running_loop().time(), stated_limit(reason))
        if self._timer is not None:  # due at the old pace
            self._timer.cancel()
            self._release()
        return self.pacer.rate

    def _forget_paced(self) -> None:
        # the connection is gone: the session sends its outbox again after the next login
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._paced.clear()
        self._idle.set()

    async def drain(self) -> None:
        """Wait until what was sent has left our buffers (or the connection is gone)."""
        await self._idle.wait()
        if self._writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.drain()

    def pause(self) -> None:
        """Close the connection and end run() (until resume() and run() again)."""
        self._stopped = True
        self._wake.set()
        if self._writer is not None:
            self._writer.close()

    def resume(self) -> None:
        self._stopped = False
        self._delay = self._min_delay

    async def close(self) -> None:
        """Flush, then close the connection and end run() for good."""
        self._stopped = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._idle.wait()
        writer, self._writer = self._writer, None
        self._forget_paced()
        if writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
                writer.close()
                await writer.wait_closed()

    async def run(self) -> None:
        """Connect, read until the connection drops, move on to the next server, and again,
        until pause/close."""
        failing = False
        while not self._stopped:
            server = self.servers.current
            try:
                reader, writer = await asyncio.open_connection(server.host, server.port)
            except OSError as exc:
                log.debug("connect to %s failed: %s", server, exc)
                if not failing:
                    self._on_unreachable(dial_error(exc))
                failing = True
                await self._next_server()
                continue
            failing = False
            self._writer = writer
            self._delay = self._min_delay  # a good connection resets the backoff
            since = asyncio.get_running_loop().time()
            reason = await self._serve(reader, writer)
            if asyncio.get_running_loop().time() - since >= self._max_delay:
                self.servers.fresh()  # a link that lasted: its drop begins a new round
            self._on_down(reason)
            if not self._stopped:
                await self._next_server()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        """One link, from up to down; why it ended."""
        reason = "the server closed the connection"
        try:
            self._on_up()
            reason = await self._read_loop(reader)
        except (ConnectionError, OSError) as exc:
            reason = f"connection lost: {exc}"
        finally:
            if self._writer is writer:
                self._writer = None
                self._forget_paced()
            writer.close()
        return reason

    async def _next_server(self) -> None:
        """The server in use failed: the next one, at once unless every one failed in a row."""
        if self.servers.failed():
            await self._backoff()

    async def _backoff(self) -> None:
        # exponential, capped: a restarting server is found again within max_delay
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._delay):
                await self._wake.wait()
        self._wake.clear()
        self._delay = min(self._delay * 2, self._max_delay)

    async def _read_loop(self, reader: asyncio.StreamReader) -> str:
        frames = FrameBuffer()
        pinged = False
        while not self._stopped:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                # cancellation that lands as the read completes, and close() then
                # waits forever for this task
                async with asyncio.timeout(self._keepalive):
                    data = await reader.read(READ_CHUNK)
            except TimeoutError:
                if pinged:
                    return "the server stopped answering"
                pinged = self.send(ev.Ping())
                continue
            if not data:
                return "the server closed the connection"
            pinged = False
            frames.feed(data)
            while (frame := frames.next_frame()) is not NEED_MORE:
                if frame is TOO_LONG:
                    self._on_garbage("the server sent a frame that is too long")
                    continue
                assert isinstance(frame, bytes)
                try:
                    event = codec.decode(frame, codec.Side.SERVER)
                except RemoteProtocolError as exc:
                    self._on_garbage(f"the server sent a bad frame: {exc.reason}")
                    continue
                if isinstance(event, ev.Ping):
                    self.send(ev.Pong())  # PROTOCOL.md: answer every 14 with 15
                    continue
                self._on_event(event)
        return "closed"
