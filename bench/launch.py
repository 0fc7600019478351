"""Start a server under test as a subprocess, find its port, and always stop it by its pid.

Two kinds of target speak the same protocol: the real server
(`python -m interzap_server`) and the bare router of bench/baseline.py. Both
print one line `listening on HOST:PORT` when ready. Each is stopped with
SIGTERM and, if it has not exited within a few seconds, SIGKILL; only the
process started here is ever signalled.
"""

import hashlib
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = ("interzap_server", "shared", "interzap_client", "bench/__init__.py",
            "bench/baseline.py")
"""What a run copies before it starts: the code every target of the run is started from."""
READY_TIMEOUT = 30.0
"""Seconds a target may take to print its `listening on` line."""
STOP_GRACE = 10.0
"""Seconds between SIGTERM and SIGKILL (a profiled server writes its profile in between)."""


@dataclass(frozen=True, slots=True)
class Running:
    """A started target: its pid, its address, and when it was started (time.monotonic())."""

    name: str
    pid: int
    host: str
    port: int
    started: float
    ready: float
    """time.monotonic() when the `listening on` line was read."""


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


SERVER_LIMITS_OFF = ("--rate-limit", "0", "--max-connections", "0")
"""The bench measures capacity: a simulated user sends far faster than a person, so the
per-connection flood control (default 100 frames/s) and the connection cap are turned off."""


def server_command(db: Path | str, sync: str = "full",
                   profile: Path | None = None) -> list[str]:
    """The command line of the real server on a fresh port, with `db` as its SQLite file
    (or a database URL)."""
    head = [sys.executable]
    if profile is not None:
        head += ["-m", "cProfile", "-o", str(profile)]
    return [*head, "-m", "interzap_server", "--host", HOST, "--port", "0", "--db", str(db),
            "--sync", sync, "--log-level", "warning", *SERVER_LIMITS_OFF]


def baseline_command() -> list[str]:
    return [sys.executable, "-m", "bench.baseline", "--host", HOST, "--port", "0"]


def snapshot(dest: Path, origin: Path = REPO) -> Path:
    """Copy the code under test (from `origin`: this checkout, or another one to compare
    with) to `dest`, so that every target of one bench run runs the same code even while
    the working tree is being edited; `python -m` started in `dest` imports from there
    first (sys.path[0]), ahead of the editable install."""
    for name in SNAPSHOT:
        source, target = origin / name, dest / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return dest


def digest(root: Path, packages: Sequence[str] = ("interzap_server", "shared")) -> str:
    """A short hash of the server's and the protocol's sources under `root`."""
    sha = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            sha.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()[:12]


@contextmanager
def running(name: str, command: Sequence[str], log_path: Path,
            code: Path = REPO) -> Iterator[Running]:
    """Run `command` in `code` until the block ends; yields once it prints `listening on`."""
    started = time.monotonic()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
            cwd=code, preexec_fn=raise_fd_limit)
    try:
        host, port = _wait_listening(process, log_path)
        yield Running(name, process.pid, host, port, started, time.monotonic())
    finally:
        stop(process)


def _wait_listening(process: subprocess.Popen[bytes], log_path: Path) -> tuple[str, int]:
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        readable, _, _ = select.select([process.stdout], [], [], max(0.0, left))
        if not readable:
            raise RuntimeError(f"no `listening on` line within {READY_TIMEOUT} s; see {log_path}")
        chunk = os.read(process.stdout.fileno(), 1)  # one byte: never read past the line
        if not chunk:
            raise RuntimeError(f"the target exited with {process.wait()}; see {log_path}: "
                               f"{_tail(log_path)}")
        line += chunk
    text = line.decode().strip()
    if not text.startswith("listening on "):
        raise RuntimeError(f"unexpected first line {text!r}")
    host, _, port = text.removeprefix("listening on ").rpartition(":")
    return host, int(port)


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL after STOP_GRACE; returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
