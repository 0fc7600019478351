"""Fixtures for the client tests: a server subprocess and client subprocesses, all
stopped by pid at teardown (the helpers themselves are in clientkit.py)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from clientkit import ChatServer, ClientProcess, stop_process


@pytest.fixture
def chat_server(tmp_path: Path) -> Iterator[ChatServer]:
    """A running server on a fresh database; stopped by pid at teardown."""
    server = ChatServer(tmp_path)
    try:
        yield server.start()
    finally:
        for proc in server.started:
            stop_process(proc, signal.SIGKILL)
        print(server.log()[-4000:])  # shown by pytest only when the test failed


@pytest.fixture
def clients() -> Iterator[list[ClientProcess]]:
    """Client subprocesses a test starts; killed by pid at teardown."""
    started: list[ClientProcess] = []
    try:
        yield started
    finally:
        for client in started:
            stop_process(client.proc, signal.SIGKILL)
