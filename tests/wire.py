"""Test helpers for end-to-end tests: a raw-socket client and a server subprocess.

WireClient speaks the protocol synchronously with `shared` (FrameBuffer and
codec) and knows no chat rules: tests state those. ServerProcess runs
`python -m interzap_server` on port 0 and knows only its command-line contract.

Theory of operation: nothing here sleeps. Every wait reads the socket (or the
server's stdout) with a deadline that is only a guard; a test proceeds as soon
as the frame it waits for arrives. "Nothing more arrives" is checked with a
ping: the server answers 14 with 15 in order, so anything it had to send first
comes before that 15.

The server follows 07, 09 and 11 with a 14 of its own, and keeps them queued
until the 15 comes (PROTOCOL.md 5.8). A WireClient answers those 14s as it
reads them, like a real client, and does not show them to the test, unless
`answer_pings` is False (tests of the idle ping).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from backends import SQLITE, Backend

from shared import codec
from shared import events as ev
from shared.codec import Side
from shared.codes import GREETING
from shared.errors import RemoteProtocolError
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 10.0
"""A guard only: a frame that comes at all comes in milliseconds."""
READY_TIMEOUT = 20.0
"""How long a server may take to print its `listening on` line."""
LISTENING = re.compile(r"listening on (\S+):(\d+)( tls)?")
"""The ready line, one per listener: the plain one first, then ` tls` if TLS."""

METRICS = re.compile(r"metrics on (\S+):(\d+)")
"""The ready line of the metrics page, after the listeners' (with --metrics-port)."""

Match = type | ev.Event | Callable[[ev.Event], bool]
"""What expect() looks for: an event class, an exact event, or a predicate."""


def matches(match: Match, event: ev.Event) -> bool:
    if isinstance(match, type):
        return isinstance(event, match)
    if callable(match):
        return bool(match(event))
    return event == match


def describe(match: Match) -> str:
    if isinstance(match, type):
        return f"any {match.__name__}"
    if callable(match):
        return getattr(match, "__doc__", None) or getattr(match, "__name__", repr(match))
    return repr(match)


def error(code: int) -> Callable[[ev.Event], bool]:
    """A predicate: a 13 with this error code."""

    def is_error(event: ev.Event) -> bool:
        return isinstance(event, ev.Error) and event.code == code

    is_error.__doc__ = f"Error(code={code:02d})"
    return is_error


def _deadline(timeout: float) -> float:
    return _now() + timeout


def _now() -> float:
    return time.monotonic()  # for deadlines only: nothing here waits on the clock


class ConnectionClosed(AssertionError):
    """The server closed a connection while a test was waiting for a frame."""


@dataclass
class WireClient:
    """One raw connection to the server, reading frames with deadlines."""

    sock: socket.socket
    name: str = "client"
    logged_in_as: str | None = None
    token: str | None = None
    greeting: ev.Greeting | None = None
    backlog: deque[ev.Event] = field(default_factory=deque, repr=False)
    """Frames read but not yet consumed by next_event() or expect()."""
    history: list[ev.Event] = field(default_factory=list, repr=False)
    """Every frame that arrived on this connection, in order."""
    eof: bool = False
    answer_pings: bool = True
    """Answer the server's 14s with 15 as they are read, instead of returning them."""
    pings_answered: int = 0
    _buffer: FrameBuffer = field(default_factory=FrameBuffer, repr=False)
    _delivered: set[tuple[str, str, int]] = field(default_factory=set, repr=False)

    @classmethod
    def connect(cls, host: str, port: int, *, name: str = "client", greet: bool = True,
                timeout: float = DEFAULT_TIMEOUT, tls: ssl.SSLContext | None = None,
                source: str | None = None) -> WireClient:
        """Connect (over TLS if given a context, from the `source` address if given) and,
        unless greet is False, read the 00 greeting (the first frame)."""
        sock = socket.create_connection((host, port), timeout=timeout,
                                        source_address=(source, 0) if source else None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            try:
                sock = tls.wrap_socket(sock, server_hostname=host)  # the handshake, blocking
            except BaseException:
                sock.close()
                raise
        client = cls(sock, name)
        if greet:
            client.read_greeting(timeout)
        return client

    def __str__(self) -> str:
        return f"{self.name} ({self.logged_in_as or 'not logged in'})"

    @property
    def user(self) -> str:
        """The id this connection registered or logged in as."""
        assert self.logged_in_as is not None, f"{self} never logged in"
        return self.logged_in_as

    # -- sending --

    def send(self, *events: ev.Event) -> None:
        """Encode the events and send them in one write."""
        self.send_raw(b"".join(codec.encode(event) for event in events))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_pieces(self, pieces: Iterable[bytes]) -> None:
        """Send each piece with its own write (TCP_NODELAY is on)."""
        for piece in pieces:
            self.sock.sendall(piece)

    # -- receiving --

    def _read_frame(self, deadline: float) -> ev.Event | None:
        """The next frame from the socket, or None at the deadline; raises at EOF."""
        while True:
            frame = self._buffer.next_frame()
            if frame is TOO_LONG:
                raise AssertionError(f"{self}: the server sent a frame over 1024 bytes")
            if frame is not NEED_MORE:
                assert isinstance(frame, bytes)
                event = self._decode(frame)
                if event != ev.Ping() or not self.answer_pings:
                    self.history.append(event)
                    return event
                self._answer_ping()
                continue
            if self.eof:
                raise ConnectionClosed(self._report("the server closed the connection"))
            remaining = deadline - _now()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                self.eof = True
            self._buffer.feed(data)

    def _answer_ping(self) -> None:
        self.pings_answered += 1
        # half-closed, or the server is gone: there is nobody to confirm to
        with contextlib.suppress(OSError):
            self.sock.sendall(codec.encode(ev.Pong()))

    def _decode(self, frame: bytes) -> ev.Event:
        try:
            event = codec.decode(frame, Side.SERVER)
        except RemoteProtocolError as exc:
            raise AssertionError(f"{self}: the server sent a bad frame {frame!r}: {exc}") from None
        if isinstance(event, ev.Deliver):
            # PROTOCOL: "a 06 is never sent twice on the same connection"
            key = (event.src, event.dst, event.ts)
            assert key not in self._delivered, f"{self}: 06 {key} sent twice on one connection"
            self._delivered.add(key)
        return event

    def _report(self, what: str, last: int = 40) -> str:
        pending = list(self.backlog)[:last]
        history = self.history[-last:]
        return (f"{self}: {what}; frames not consumed ({len(self.backlog)}): {pending!r}; "
                f"last {len(history)} of {len(self.history)} frames: {history!r}")

    def next_event(self, timeout: float = DEFAULT_TIMEOUT) -> ev.Event:
        """The next frame, strictly: the oldest remembered one, else the next to arrive."""
        if self.backlog:
            return self.backlog.popleft()
        event = self._read_frame(_deadline(timeout))
        if event is None:
            raise AssertionError(self._report(f"no frame within {timeout} s"))
        return event

    def expect_next(self, match: Match, timeout: float = DEFAULT_TIMEOUT) -> ev.Event:
        """The next frame, which must match."""
        event = self.next_event(timeout)
        if not matches(match, event):
            raise AssertionError(self._report(f"expected {describe(match)} next, got {event!r}"))
        return event

    def expect(self, match: Match, timeout: float = DEFAULT_TIMEOUT) -> ev.Event:
        """The first frame that matches, remembering the others for later."""
        for event in self.backlog:
            if matches(match, event):
                self.backlog.remove(event)
                return event
        deadline = _deadline(timeout)
        while True:
            event = self._read_frame(deadline)
            if event is None:
                raise AssertionError(self._report(f"no {describe(match)} within {timeout} s"))
            if matches(match, event):
                return event
            self.backlog.append(event)

    def expect_error(self, code: int, timeout: float = DEFAULT_TIMEOUT) -> ev.Error:
        """The next frame, which must be a 13 with this code."""
        event = self.expect_next(error(code), timeout)
        assert isinstance(event, ev.Error)
        return event

    def assert_silent(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Nothing is pending and nothing more arrives before the answer to a ping."""
        assert not self.backlog, self._report("unconsumed frames")
        self.send(ev.Ping())
        self.expect_next(ev.Pong(), timeout)

    def sync(self, timeout: float = DEFAULT_TIMEOUT) -> list[ev.Event]:
        """Ping, and return (and consume) whatever arrives before the pong.

        If a 14 of the server's was answered meanwhile, ping again: once that
        pong is in, the server has read the answer too (and confirmed the entries).
        """
        before = []
        answered = -1
        while answered != self.pings_answered:
            answered = self.pings_answered
            self.send(ev.Ping())
            while (event := self.next_event(timeout)) != ev.Pong():
                before.append(event)
        return before

    def expect_closed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """The server closes the connection, and sends nothing more before that."""
        if self.backlog:
            raise AssertionError(self._report("expected the connection to close"))
        try:
            event = self._read_frame(_deadline(timeout))
        except ConnectionClosed:
            return
        if event is None:
            raise AssertionError(self._report(f"still open after {timeout} s"))
        raise AssertionError(self._report(f"expected the connection to close, got {event!r}"))

    def drain_until_closed(self, timeout: float = DEFAULT_TIMEOUT) -> list[ev.Event]:
        """Every frame that arrives until the connection closes (e.g. the server died)."""
        events = list(self.backlog)
        self.backlog.clear()
        deadline = _deadline(timeout)
        while True:
            try:
                event = self._read_frame(deadline)
            except ConnectionClosed:
                return events
            if event is None:
                raise AssertionError(self._report(f"still open after {timeout} s"))
            events.append(event)

    # -- conversations --

    def read_greeting(self, timeout: float = DEFAULT_TIMEOUT) -> ev.Greeting:
        """The 00 greeting, which must be the first frame."""
        event = self.expect_next(ev.Greeting(GREETING), timeout)
        assert isinstance(event, ev.Greeting)
        self.greeting = event
        return event

    def register(self) -> tuple[str, str]:
        """01 -> 02: a new account; the connection is now logged in as it."""
        self.send(ev.Register())
        event = self.expect_next(ev.Registered)
        assert isinstance(event, ev.Registered)
        self.logged_in_as, self.token = event.user, event.token
        return event.user, event.token

    def login(self, user: str, token: str) -> None:
        """03 -> 04 (the frames queued for the user follow, read them with next_event)."""
        self.send(ev.Login(user, token))
        self.expect_next(ev.LoggedIn(user))
        self.logged_in_as, self.token = user, token

    def leave(self, timeout: float = DEFAULT_TIMEOUT) -> list[ev.Event]:
        """Go offline for sure, having confirmed what was read: sync (if logged in),
        half-close, and wait until the server closes its side.

        A plain close() races with frames the server is about to write to the
        dying connection; once the server has closed its side, it knows this user
        is offline. The sync first answers the server's 14s, so the 07, 09 and 11
        read so far leave the queue. Returns the frames that arrived meanwhile.
        """
        events = self.sync(timeout) if self.logged_in_as and not self.eof else []
        self.sock.shutdown(socket.SHUT_WR)
        events += self.drain_until_closed(timeout)
        self.sock.close()
        return events

    def credentials(self) -> tuple[str, str]:
        """The (id, token) this connection registered or logged in with."""
        assert self.token is not None, f"{self} never logged in"
        return self.user, self.token

    def close(self) -> None:
        self.sock.close()


class ServerProcess:
    """`python -m interzap_server` on a database (an SQLite path or a URL), started and
    stopped by pid."""

    def __init__(self, db: Path | str, *, log_path: Path, host: str = "127.0.0.1",
                 port: int = 0, log_level: str = "debug", extra_args: Iterable[str] = (),
                 ready_timeout: float = READY_TIMEOUT,
                 fd_limits: tuple[int, int] | None = None) -> None:
        """Start it; `fd_limits` are its (soft, hard) file-descriptor limits."""
        self.db = db
        self.host = host
        self.log_path = log_path
        self.stdout_rest = b""
        # bulk tests send faster than the default flood limit; a test of the limit
        # passes its own --rate-limit in extra_args, which comes later and wins
        command = [sys.executable, "-m", "interzap_server", "--host", host,
                   "--port", str(port), "--db", str(db), "--log-level", log_level,
                   "--rate-limit", "0", *extra_args]
        with open(log_path, "ab") as log:  # a file, not a pipe: a full pipe would block it
            self.proc = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=log, preexec_fn=None if fd_limits is None else partial(
                    resource.setrlimit, resource.RLIMIT_NOFILE, fd_limits))
        try:
            self.listening_line = self._read_listening_line(ready_timeout)
            found = LISTENING.fullmatch(self.listening_line)
            assert found, f"unexpected first line {self.listening_line!r}"
            assert found[1] == host, f"listening on {found[1]}, asked for {host}"
            self.port = int(found[2])
            self.tls = bool(found[3])
            assert port in (0, self.port), f"asked for port {port}, got {self.port}"
        except BaseException:
            self.stop()  # never leave a process behind, even when it misbehaves
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def _read_listening_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        data = self.stdout_rest
        deadline = _deadline(timeout)
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in data:
                remaining = deadline - _now()
                if remaining <= 0 or not selector.select(remaining):
                    raise AssertionError(f"no `listening on` line within {timeout} s; "
                                         f"stdout so far {data!r}; log:\n{self.log_tail()}")
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self.proc.wait()
                    raise AssertionError(f"the server exited with {code} before listening; "
                                         f"stdout {data!r}; log:\n{self.log_tail()}")
                data += chunk
        line, _, self.stdout_rest = data.partition(b"\n")
        return line.decode("utf-8", "replace")

    def second_listener(self, timeout: float = READY_TIMEOUT) -> tuple[int, bool]:
        """(port, tls) from the next `listening on` line (with --tls-port: the TLS one)."""
        line = self._read_listening_line(timeout)
        found = LISTENING.fullmatch(line)
        assert found and found[1] == self.host, f"unexpected line {line!r}"
        return int(found[2]), bool(found[3])

    def metrics_address(self, timeout: float = READY_TIMEOUT) -> tuple[str, int]:
        """(host, port) from the `metrics on` line that follows the `listening on` lines
        of a server started with --metrics-port."""
        line = self._read_listening_line(timeout)
        found = METRICS.fullmatch(line)
        assert found, f"unexpected line {line!r}"
        return found[1], int(found[2])

    def running(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Send a signal by pid and return the exit code."""
        os.kill(self.pid, signum)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the server ignored signal {signum} for {timeout} s; "
                                 f"log:\n{self.log_tail()}") from None

    def terminate(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """SIGTERM, wait, return the exit code."""
        return self.signal(signal.SIGTERM, timeout)

    def interrupt(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """SIGINT, wait, return the exit code."""
        return self.signal(signal.SIGINT, timeout)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to finish anything."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(DEFAULT_TIMEOUT)

    def read_rest_of_stdout(self) -> bytes:
        """Everything printed after the `listening on` line; only once the server exited."""
        assert self.proc.stdout is not None and not self.running()
        return self.stdout_rest + self.proc.stdout.read()

    def stop(self) -> None:
        """Make sure the process is gone: SIGTERM, then SIGKILL if it lingers."""
        if self.running():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_tail(self, lines: int = 60, since: int = 0) -> str:
        """The last lines of the server's log, from byte `since` on."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(since)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class ServerFactory:
    """Starts servers for one test, by default all on the same database: a fresh one made
    by `backend` (an SQLite file in `folder` unless told otherwise)."""

    def __init__(self, folder: Path, backend: Backend = SQLITE) -> None:
        self.folder = folder
        self.backend = backend
        self.db = backend.create(folder)
        """The servers' --db: an SQLite path or a postgresql:// URL."""
        self.started: list[ServerProcess] = []

    def start(self, *, port: int = 0, db: Path | str | None = None,
              extra_args: Iterable[str] = (),
              fd_limits: tuple[int, int] | None = None) -> ServerProcess:
        log_path = self.folder / f"server-{len(self.started) + 1}.log"
        server = ServerProcess(self.db if db is None else db, log_path=log_path, port=port,
                               extra_args=extra_args, fd_limits=fd_limits)
        self.started.append(server)
        return server

    def start_at_once(self, count: int, args: Callable[[int], Iterable[str]] = lambda _: (),
                      ) -> list[ServerProcess]:
        """`count` servers on the factory's database, their processes started together (one
        thread each); `args(index)` are the extra arguments of the index-th (from 1). Every
        one that started is stopped at the end, whichever one failed."""
        first = len(self.started) + 1

        def start(index: int) -> ServerProcess:
            return ServerProcess(self.db, log_path=self.folder / f"server-{index}.log",
                                 log_level="info", extra_args=args(index - first + 1))

        with ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(start, first + index) for index in range(count)]
        self.started += [future.result() for future in futures if future.exception() is None]
        return [future.result() for future in futures]  # raises the first failure

    def running(self) -> ServerProcess:
        """The last server started if it still runs, else a new one on the same database."""
        if self.started and self.started[-1].running():
            return self.started[-1]
        return self.start()

    def print_logs(self, lines: int = 200) -> None:
        """Print the end of every server's log (pytest shows it when a test failed)."""
        for server in self.started:
            print(f"--- {server.log_path} (pid {server.pid}) ---\n{server.log_tail(lines)}")
        engine = self.backend.log_lines(self.db)
        if engine:
            print(f"--- {self.backend.name}'s log about {self.db} ---\n"
                  + "\n".join(engine[-lines:]))

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()

    def close(self) -> None:
        """Stop every server, then give the database back."""
        self.stop_all()
        self.backend.drop(self.db)


class ClientFactory:
    """Opens WireClients for one test and closes them all at teardown."""

    def __init__(self, default_server: Callable[[], ServerProcess]) -> None:
        self._default_server = default_server
        self.clients: list[WireClient] = []

    def connect(self, server: ServerProcess | None = None, *, name: str | None = None,
                greet: bool = True, source: str | None = None) -> WireClient:
        """A new connection (from the `source` address if given), greeted unless greet
        is False."""
        server = server or self._default_server()
        name = name or f"client{len(self.clients) + 1}"
        client = WireClient.connect(server.host, server.port, name=name, greet=greet,
                                    source=source)
        self.clients.append(client)
        return client

    __call__ = connect

    def registered(self, server: ServerProcess | None = None, *,
                   name: str | None = None) -> WireClient:
        """A new connection logged in as a new account."""
        client = self.connect(server, name=name)
        client.register()
        return client

    def logged_in(self, user: str, token: str, server: ServerProcess | None = None, *,
                  name: str | None = None) -> WireClient:
        """A new connection logged in as an existing account (after its 04)."""
        client = self.connect(server, name=name)
        client.login(user, token)
        return client

    def close_all(self) -> None:
        for client in self.clients:
            client.close()


def timestamp(offset: int = 0) -> int:
    """A message timestamp near now (Unix seconds), as a client would pick it."""
    return int(time.time()) + offset
