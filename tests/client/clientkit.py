"""Helpers for the client tests: a real server subprocess, client subprocesses, sessions.

Nothing here sleeps to pass: every wait reads a pipe with a deadline that is
only a guard, and moves on as soon as the line it waits for is there. Every
process started is stopped by its pid at teardown, whatever happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from interzap_client.session import Session

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
GUARD = 20.0
"""Seconds a wait may take before the test fails; things normally take milliseconds."""


class LineReader:
    """Lines from a subprocess pipe with a deadline (select on the raw fd, our own buffer:
    a buffered file object could hide lines from select)."""

    def __init__(self, stream: Any) -> None:
        self.fd = stream.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.eof = False

    def line(self, deadline: float, what: str) -> str:
        while b"\n" not in self.buffer:
            if self.eof:
                raise AssertionError(f"end of output while waiting for {what}")
            remaining = deadline - time.monotonic()
            with selectors.DefaultSelector() as selector:
                selector.register(self.fd, selectors.EVENT_READ)
                if remaining <= 0 or not selector.select(remaining):
                    raise AssertionError(f"timed out waiting for {what}")
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def rest(self, deadline: float) -> list[str]:
        """Every remaining line up to the end of output."""
        lines = []
        while True:
            try:
                lines.append(self.line(deadline, "the end of output"))
            except AssertionError:
                if self.eof:
                    return lines
                raise


def closed_port() -> int:
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(GUARD)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(GUARD)


class ChatServer:
    """`python -m interzap_server` on 127.0.0.1 with one SQLite file (and `options`);
    restartable."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.folder = folder
        self.options = options
        self.db = folder / "server.db"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.started: list[subprocess.Popen[bytes]] = []
        self.runs = 0

    def start(self) -> ChatServer:
        """Start (again, on the same port once it has one) and wait for `listening on`."""
        self.runs += 1
        log = open(self.folder / f"server-{self.runs}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "interzap_server", "--host", "127.0.0.1",
             "--port", str(self.port), "--db", str(self.db), *self.options],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
        )
        log.close()
        self.proc = proc
        self.started.append(proc)
        line = LineReader(proc.stdout).line(time.monotonic() + GUARD, "the listening line")
        assert line.startswith("listening on 127.0.0.1:"), line
        self.port = int(line.strip().rsplit(":", 1)[1])
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop_process(self.proc, sig)
            self.proc = None

    def log(self) -> str:
        return "".join(p.read_text() for p in sorted(self.folder.glob("server-*.log")))


class ClientProcess:
    """`python -m interzap_client --json` with a stdin pipe, fed line by line."""

    def __init__(self, port: int, data: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "interzap_client", "--port", str(port),
             "--data-dir", str(data), "--json", *args],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.out = LineReader(self.proc.stdout)
        self.events: list[dict[str, Any]] = []  # everything printed so far
        self.unclaimed: list[dict[str, Any]] = []  # printed, not yet returned by expect()

    def send(self, *lines: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())
        self.proc.stdin.flush()

    def expect(self, match: Callable[[dict[str, Any]], bool] | str,
               timeout: float = GUARD) -> dict[str, Any]:
        """The first event not yet returned that satisfies `match` (a predicate or a name).

        Events passed over stay available to later calls, so the order in which a
        test asks does not have to be the order in which they were printed.
        """
        test = (lambda e: e["event"] == match) if isinstance(match, str) else match
        for event in self.unclaimed:
            if test(event):
                self.unclaimed.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = json.loads(self.out.line(deadline, f"{match}"))
            self.events.append(event)
            if test(event):
                return event
            self.unclaimed.append(event)

    def finish(self, timeout: float = GUARD) -> int:
        """Close stdin (end of script) and collect the rest of the output; the exit status."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        rest = self.out.rest(time.monotonic() + timeout)
        self.events += [json.loads(line) for line in rest]
        return self.proc.wait(timeout)


def run_script(port: int, data: Path, script: str, *args: str,
               timeout: float = GUARD) -> tuple[int, list[dict[str, Any]], str]:
    """Run one scripted client to its end: (exit status, JSON events, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "interzap_client", "--port", str(port), "--data-dir",
         str(data), "--json", "--timeout", "10", *args],
        cwd=ROOT, input=script, capture_output=True, text=True, timeout=timeout,
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return done.returncode, events, done.stderr


def register(port: int, data: Path) -> str:
    """A new account stored in `data`; its id."""
    status, events, err = run_script(port, data, "/register\n")
    assert status == 0, (events, err)
    return next(e["id"] for e in events if e["event"] == "registered")


def logged_in(port: int, data: Path, clients: list[ClientProcess], count: int,
              *args: str) -> tuple[list[str], list[ClientProcess]]:
    """`count` new accounts in `data`, each a scripted client logged in (added to `clients`,
    which the fixture stops): their ids and the clients."""
    idents = [register(port, data) for _ in range(count)]
    started = [ClientProcess(port, data, "--account", ident, *args) for ident in idents]
    clients += started
    for client in started:
        client.expect("logged_in")
    return idents, started


def scripted(server: ChatServer, data: Path, started: list[ClientProcess],
             count: int) -> list[tuple[str, ClientProcess]]:
    """`count` new accounts, each with a scripted client logged in: (id, client) each;
    the clients are added to `started` (the `clients` fixture stops them)."""
    return list(zip(*logged_in(server.port, data, started, count), strict=True))


# ---- in-process sessions (asyncio, same loop as the code under test) ----


async def online(data: Path, port: int, ident: str) -> tuple[Session, asyncio.Task[None]]:
    """A Session logged in as `ident` (stored in `data`), with its network task."""
    session = Session(data, "127.0.0.1", port)
    task = asyncio.create_task(session.run_network())
    session.start_login(ident)
    assert await session.answer(GUARD)
    return session, task


async def offline(session: Session, task: asyncio.Task[None]) -> None:
    await session.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def until(session: Session, predicate: Callable[[], bool]) -> None:
    assert await session.wait_until(predicate, GUARD), "timed out"


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), 3 * GUARD))
