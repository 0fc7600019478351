"""Helpers for the fault tests: a fleet of real scripted clients, socket queues, a small disk.

Fleet runs `python -m interzap_client --json` processes and reads all their
outputs through one selector, so a test waits for events across many clients
without sleeping and no client's pipe ever fills up. unread_bytes() reads
/proc to tell that a frame has reached a process's socket but was not read yet,
which lets a test kill a process "after the 06 arrived, before the 12 left"
deterministically. SmallDisk mounts a tiny tmpfs to run a database on a disk
that can be filled. Every process is started here and stopped by its pid.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from wire import ROOT, ServerProcess, WireClient

from interzap_client import profile

GUARD = 30.0
"""Seconds a wait may take before it gives up; things normally take milliseconds."""
ESTABLISHED = "01"
"""The TCP state in /proc/net/tcp (include/net/tcp_states.h)."""


class FleetClient:
    """One scripted client process, logged in as `user`; fed by stdin, read by its Fleet."""

    def __init__(self, user: str, port: int, data: Path, log: Path, *args: str) -> None:
        self.user = user
        with open(log, "ab") as err:  # a file, not a pipe: nobody has to read it
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "interzap_client", "--port", str(port),
                 "--data-dir", str(data), "--account", user, "--json", *args],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.eof = False
        self.events: list[tuple[float, dict[str, Any]]] = []
        """Every event printed, with the time.monotonic() at which it was read."""
        self.counts: Counter[str] = Counter()
        self._keys: dict[str, set[tuple[str, int]]] = {}
        self._rest = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def feed(self, *lines: str) -> None:
        """Script lines, run by the client in order (a /wait holds the ones after it)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())
        self.proc.stdin.flush()

    def end_input(self) -> None:
        """The end of the script: the client drains its outbox and exits."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()

    def seen(self, name: str, since: float = 0.0) -> list[dict[str, Any]]:
        """The events called `name` read at or after `since` (time.monotonic())."""
        return [event for at, event in self.events if event["event"] == name and at >= since]

    def keys(self, name: str) -> set[tuple[str, int]]:
        """(peer, ts) of every event called `name` (accepted, delivered, read)."""
        return self._keys.setdefault(name, set())

    def first_at(self, name: str, since: float = 0.0) -> float:
        """When the first event called `name` at or after `since` was read."""
        return next(at for at, event in self.events if event["event"] == name and at >= since)

    def read_ready(self) -> None:
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self.eof = True
            return
        now = time.monotonic()
        *lines, self._rest = (self._rest + chunk).split(b"\n")
        for line in lines:
            event = json.loads(line)
            self.events.append((now, event))
            self.counts[event["event"]] += 1
            if event["event"] in ("accepted", "delivered", "read"):
                self.keys(event["event"]).add((event["peer"], event["ts"]))

    def stop(self) -> None:
        """SIGKILL by pid if it still runs; close the pipes."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(GUARD)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


class Fleet:
    """Scripted clients sharing one data folder and one server port (or each its own list
    of servers)."""

    def __init__(self, folder: Path, port: int,
                 own_args: Callable[[int], Sequence[str]] = lambda index: ()) -> None:
        """`own_args(index)`: more arguments for the index-th client of a run (its own
        --server list, say)."""
        self.folder = folder
        self.data = folder / "clients"
        self.port = port
        self.own_args = own_args
        self.clients: list[FleetClient] = []
        """The clients of the current run (start() replaces them)."""
        self.started: list[FleetClient] = []
        """Every process ever started, for stop_all()."""

    def start(self, users: Iterable[str], *args: str) -> list[FleetClient]:
        """One client per user, as the fleet's current run."""
        self.clients = [
            FleetClient(user, self.port, self.data, self.folder / f"client-{user}.log", *args,
                        *self.own_args(index))
            for index, user in enumerate(users)
        ]
        self.started += self.clients
        return self.clients

    def pump(self, done: Callable[[], bool], timeout: float = GUARD) -> bool:
        """Read every client's output until done() holds (True) or the guard expires (False)."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            for client in self.clients:
                if not client.eof:
                    selector.register(client.fd, selectors.EVENT_READ, client)
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.get_map():
                    return False
                for key, _ in selector.select(remaining):
                    client = key.data
                    client.read_ready()
                    if client.eof:
                        selector.unregister(client.fd)
        return True

    def finish(self, timeout: float = GUARD) -> dict[str, int | None]:
        """End every client's input and wait for its exit; user -> exit status (None: hung)."""
        for client in self.clients:
            client.end_input()
        self.pump(lambda: all(c.eof for c in self.clients), timeout)
        statuses: dict[str, int | None] = {}
        for client in self.clients:
            try:
                statuses[client.user] = client.proc.wait(timeout if client.eof else 0.1)
            except subprocess.TimeoutExpired:
                statuses[client.user] = None
        return statuses

    def stop_all(self) -> None:
        for client in self.started:
            client.stop()


def accounts(server: ServerProcess, data: Path, count: int) -> list[tuple[str, str]]:
    """`count` new accounts registered over the wire; their tokens stored in `data` for the
    real client (as its /register would)."""
    made = []
    for _ in range(count):
        client = WireClient.connect(*server.address, name="registrar")
        try:
            user, token = client.register()
        finally:
            client.close()
        profile.save_account(data, user, token)
        made.append((user, token))
    return made


def slow_reader(server: ServerProcess, rcvbuf: int = 4096, name: str = "slow") -> WireClient:
    """A greeted connection with a tiny receive buffer: what it does not read soon stays
    in the server's socket, as with a client too busy to read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: the
        sock.settimeout(GUARD)  # window is negotiated in the handshake
        sock.connect(server.address)
    except BaseException:
        sock.close()
        raise
    client = WireClient(sock, name)
    client.read_greeting()
    return client


def unread_bytes(pid: int) -> int:
    """Bytes waiting, unread, in the receive queues of the TCP sockets of process `pid`."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # sl, local, remote, state, tx_queue:rx_queue (hex), ..., inode (the 10th); only
            # connections count: a listener's rx_queue is its backlog of connections
            if fields[9] in inodes and fields[3] == ESTABLISHED:
                total += int(fields[4].split(":")[1], 16)
    return total


def wait_unread(pid: int, timeout: float = GUARD) -> int:
    """Wait until something arrived in a socket of `pid` that it did not read; the bytes.

    Only for a stopped process (SIGSTOP), whose queues can only grow. Polls /proc:
    the kernel offers no event for "bytes arrived in someone else's socket".
    """
    deadline = time.monotonic() + timeout
    while (waiting := unread_bytes(pid)) == 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing arrived in the sockets of {pid} within {timeout} s")
        time.sleep(0.001)  # a poll interval, not a wait for the outcome
    return waiting


class SmallDisk:
    """A tmpfs of `size` bytes mounted on `path`, which fill() fills to the last byte."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.mounted = False
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(f"cannot mount a tmpfs on {path}: {done.stderr.strip()}")
        self.mounted = True
        self.filler = path / "filler"

    def fill(self) -> int:
        """Write a filler file until the disk is full; its size."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        chunk = 1 << 16
        try:
            while chunk:
                try:
                    os.write(fd, bytes(chunk))
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    chunk //= 2
        finally:
            os.close(fd)
        return self.filler.stat().st_size

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        """Unmount (every process using it must have stopped); lazily if something lingers."""
        if self.mounted:
            done = subprocess.run(["umount", str(self.path)], capture_output=True)
            if done.returncode != 0:
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self.mounted = False
