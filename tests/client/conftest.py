"""Fixtures for the client tests: a server subprocess and client subprocesses, all
stopped by pid at teardown (the helpers themselves are in clientkit.py)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from clientkit import ChatServer, ClientProcess, stop_process


def _served(server: ChatServer) -> Iterator[ChatServer]:
    """`server` started; every process it started is stopped by pid at teardown."""
    try:
        yield server.start()
    finally:
        for proc in server.started:
            stop_process(proc, signal.SIGKILL)
        print(server.log()[-4000:])  # shown by pytest only when the test failed


@pytest.fixture
def chat_server(tmp_path: Path) -> Iterator[ChatServer]:
    """A running server on a fresh database."""
    yield from _served(ChatServer(tmp_path))


@pytest.fixture
def invite_server(tmp_path: Path) -> Iterator[ChatServer]:
    """A server that takes new accounts only with an invite code (--registration invite)."""
    yield from _served(ChatServer(tmp_path, "--registration", "invite"))


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[ChatServer]:
    """A server that takes 20 frames a second after a burst of 40 (PROTOCOL.md 5.7)."""
    yield from _served(ChatServer(tmp_path, "--rate-limit", "20", "--rate-burst", "40"))


@pytest.fixture
def clients() -> Iterator[list[ClientProcess]]:
    """Client subprocesses a test starts; killed by pid at teardown."""
    started: list[ClientProcess] = []
    try:
        yield started
    finally:
        for client in started:
            stop_process(client.proc, signal.SIGKILL)
