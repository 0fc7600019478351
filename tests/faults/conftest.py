"""Fixtures for the fault tests: client processes, killed by pid at teardown."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from client.clientkit import ClientProcess, stop_process


@pytest.fixture
def processes() -> Iterator[list[ClientProcess]]:
    """Client processes a test starts; killed by pid at teardown."""
    started: list[ClientProcess] = []
    try:
        yield started
    finally:
        for client in started:
            stop_process(client.proc, signal.SIGKILL)
