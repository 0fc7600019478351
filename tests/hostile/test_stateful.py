"""The running server under random sequences of valid and invalid frames (machine.py)."""

import pytest
from backends import Backend, Postgres
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from hostile.machine import ServerMachine

SMALL = settings(max_examples=40, stateful_step_count=50, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])
"""About ten seconds in `make test`; soak/hostile.py runs the same machine far longer."""
ON_POSTGRESQL = settings(SMALL, max_examples=20)
"""Half the runs on PostgreSQL, each of which makes a database: the rules are the same."""


def test_server_keeps_its_rules_under_random_frames(backend: Backend,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Random frames from several clients never kill the server, never reach the wrong
    client, and leave nothing owed once everyone has logged in and acknowledged."""
    monkeypatch.setattr(ServerMachine, "backend", backend)  # each run: a fresh database
    chosen = ON_POSTGRESQL if backend.name == Postgres.name else SMALL
    run_state_machine_as_test(ServerMachine, settings=chosen)
