"""Scripted mode without a terminal or a pipe: stdin at its end, a file, closed; --stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from clientkit import GUARD, ROOT, ChatServer, LineReader, register, run_script, stop_process


def client(port: int, data: Path, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "interzap_client", "--port", str(port), "--data-dir", str(data),
         "--json", "--timeout", "10", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, list[dict[str, Any]], str]:
    """Wait for the end (a guard, not a pause): status, JSON events, stderr."""
    try:
        out, err = proc.communicate(timeout=GUARD)
    finally:
        stop_process(proc, signal.SIGKILL)
    return proc.returncode, [json.loads(line) for line in out.splitlines()], err.decode()


def test_stdin_dev_null_drains_and_exits(chat_server: ChatServer, tmp_path: Path) -> None:
    """< /dev/null (systemd, cron, nohup): logs in, sends what waited in the outbox, exits 0."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    chat_server.stop()
    run_script(chat_server.port, data, f"/send {bob} kept from before\n", "--account", alice,
               "--timeout", "0.5")
    chat_server.start()
    with open(os.devnull, "rb") as null:
        status, events, err = finish(client(chat_server.port, data, "--account", alice,
                                            stdin=null))
    assert (status, err) == (0, "")
    assert [e["event"] for e in events] == ["logged_in", "accepted"]


def test_stdin_closed_is_an_empty_script(chat_server: ChatServer, tmp_path: Path) -> None:
    """A closed stdin is the end of input: log in, nothing to do, exit 0."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    proc = client(chat_server.port, data, "--account", alice, stdin=None,
                  preexec_fn=lambda: os.close(0))
    status, events, err = finish(proc)
    assert (status, err) == (0, "")
    assert [e["event"] for e in events] == ["logged_in"]


def test_stdin_regular_file_is_run(chat_server: ChatServer, tmp_path: Path) -> None:
    """< commands.txt: every line is run, the messages are delivered, exit 0."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    commands = tmp_path / "commands.txt"
    commands.write_text(f"/send {bob} one\n# a comment\n/send {bob} two\n/wait accepted {bob}\n")
    with open(commands, "rb") as script:
        status, events, err = finish(client(chat_server.port, data, "--account", alice,
                                            stdin=script))
    assert (status, err) == (0, "")
    status, events, _ = run_script(chat_server.port, data, "/wait received 2\n",
                                   "--account", bob)
    assert status == 0
    assert [e["text"] for e in events if e["event"] == "message"] == ["one", "two"]


def test_stdin_stay_listens_until_sigterm(chat_server: ChatServer, tmp_path: Path) -> None:
    """--stay: a bot with nothing to say goes on after the end of input, until SIGTERM."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    with open(os.devnull, "rb") as null:
        proc = client(chat_server.port, data, "--account", bob, "--stay", stdin=null)
    try:
        out = LineReader(proc.stdout)
        deadline = time.monotonic() + GUARD
        assert json.loads(out.line(deadline, "logged_in"))["event"] == "logged_in"
        status, _, _ = run_script(chat_server.port, data, f"/send {bob} are you there?\n",
                                  "--account", alice)
        assert status == 0
        event = json.loads(out.line(deadline, "the message"))
        assert (event["event"], event["text"]) == ("message", "are you there?")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(GUARD) == 0
    finally:
        stop_process(proc, signal.SIGKILL)
