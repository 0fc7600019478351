"""The metrics page over HTTP: a tiny non-blocking responder on the server's own selector.

Knows sockets, the selector and as much HTTP/1.0 as a scraper needs: a request
line, headers up to a blank line, one answer, a close. Knows nothing of the chat,
the store or what the page says (a callable makes it).

Theory of operation: the listener and each connection are registered on the
loop's selector with a callable as their data, which the loop calls when they are
ready, as it does for its own listeners. A connection is read until the end of the
request's headers, at most REQUEST_LIMIT bytes; then `GET /metrics` is answered
200 with the page, any other request 404, a line that is no request 400, and the connection
is closed once the answer is written. Nothing blocks and nothing grows: at most
MAX_CLIENTS connections at once (more are closed at accept), at most REQUEST_LIMIT
bytes read from each, and DEADLINE seconds for each to send its request and take
the answer, after which expire(), called at the loop's tick, closes it.
"""

import contextlib
import logging
import selectors
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

log = logging.getLogger(__name__)

MAX_CLIENTS = 16
"""Connections to the metrics port at once; a scraper needs one."""
REQUEST_LIMIT = 8192
"""Bytes of request line and headers read before the request is refused (400)."""
DEADLINE = 5.0
"""Seconds a connection may take to send its request and read the answer."""
ACCEPT_BURST = 16
"""Connections accepted per wake-up."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found"}


@dataclass(eq=False, slots=True)
class _Client:
    sock: socket.socket
    since: float
    request: bytearray = field(default_factory=bytearray)
    answer: memoryview | None = None  # once the request is read: what is left to send


def response(status: int, body: bytes) -> bytes:
    """An HTTP/1.0 answer that closes the connection."""
    head = (f"HTTP/1.0 {status} {_REASONS[status]}\r\nContent-Type: {CONTENT_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body


def answer(request: bytes, page: Callable[[], bytes]) -> bytes:
    """The answer to a request (its request line and headers)."""
    parts = request.split(b"\r\n", 1)[0].split(b"\n", 1)[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        return response(400, b"a request line: GET /metrics HTTP/1.0\n")
    method, target, _ = parts
    if method != b"GET" or target.split(b"?", 1)[0] != b"/metrics":
        return response(404, b"only GET /metrics is served here\n")
    return response(200, page())


class MetricsEndpoint:
    """Listens on (host, port) on `selector`; `page()` makes the body of GET /metrics."""

    def __init__(self, selector: selectors.BaseSelector, host: str, port: int,
                 page: Callable[[], bytes], now: Callable[[], float]) -> None:
        self._selector = selector
        self._page = page
        self._now = now
        self._clients: set[_Client] = set()
        self._paused = False  # accept() ran out of descriptors: not watched until the tick
        self._listener = socket.create_server((host, port), backlog=64)
        self._listener.setblocking(False)
        selector.register(self._listener, selectors.EVENT_READ, self._accept)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return host, port

    def _accept(self) -> None:
        for _ in range(ACCEPT_BURST):
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: wait for the tick, do not spin
                log.warning("metrics: accept failed (%s); not accepting until the tick", exc)
                self._selector.unregister(self._listener)
                self._paused = True
                return
            if len(self._clients) >= MAX_CLIENTS:
                sock.close()
                continue
            sock.setblocking(False)
            client = _Client(sock, self._now())
            self._clients.add(client)
            self._selector.register(sock, selectors.EVENT_READ, partial(self._ready, client))

    def _ready(self, client: _Client) -> None:
        if client.answer is None:
            self._read(client)
        else:
            self._write(client)

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(REQUEST_LIMIT - len(client.request))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(client)
            return
        client.request += data
        ended = b"\r\n\r\n" in client.request or b"\n\n" in client.request
        if ended:
            client.answer = memoryview(answer(bytes(client.request), self._page))
        elif len(client.request) >= REQUEST_LIMIT:
            client.answer = memoryview(response(400, b"the request is too long\n"))
        else:
            return
        self._write(client)

    def _write(self, client: _Client) -> None:
        assert client.answer is not None
        try:
            sent = client.sock.send(client.answer)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(client)
            return
        client.answer = client.answer[sent:]
        if not client.answer:
            self._close(client)
        elif self._selector.get_key(client.sock).events != selectors.EVENT_WRITE:
            self._selector.modify(client.sock, selectors.EVENT_WRITE,
                                  partial(self._ready, client))

    def _close(self, client: _Client) -> None:
        self._clients.discard(client)
        self._selector.unregister(client.sock)
        with contextlib.suppress(OSError):
            client.sock.shutdown(socket.SHUT_WR)
        client.sock.close()

    def expire(self, now: float) -> None:
        """Close the connections older than DEADLINE (a slow or silent client); watch the
        listener again if an accept ran out of descriptors."""
        for client in [c for c in self._clients if now - c.since > DEADLINE]:
            log.info("metrics: a client took more than %g s, closed", DEADLINE)
            self._close(client)
        if self._paused:
            self._paused = False
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)

    def close(self) -> None:
        for client in list(self._clients):
            self._close(client)
        if not self._paused:
            self._selector.unregister(self._listener)
        self._listener.close()
