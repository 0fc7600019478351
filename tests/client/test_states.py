"""The session's phases: the transition table of session/states.py, without a session."""

from __future__ import annotations

import pytest

from interzap_client.session.states import (
    STATUS_WORDS,
    TRANSITIONS,
    LocalStateError,
    Phase,
    RemoteStateError,
    Step,
    advance,
)


def test_states_status_words_cover_every_phase() -> None:
    """Each phase shows as one of the five words the status bar and scripts know."""
    assert set(STATUS_WORDS) == set(Phase)
    assert set(STATUS_WORDS.values()) == {"offline", "connecting", "connected", "reconnecting",
                                          "signed out"}


def test_states_every_phase_reachable_from_idle() -> None:
    """No phase in the enum is left out of the table."""
    seen, todo = {Phase.IDLE}, [Phase.IDLE]
    while todo:
        phase = todo.pop()
        for (start, _), end in TRANSITIONS.items():
            if start is phase and end not in seen:
                seen.add(end)
                todo.append(end)
    assert seen == set(Phase)


def test_states_login_reconnect_and_close() -> None:
    """The usual life: dial, hello, welcome, a dropped link, hello again, close."""
    phase = Phase.IDLE
    for step in (Step.DIAL, Step.UP, Step.HELLO, Step.WELCOME, Step.DOWN, Step.UP,
                 Step.HELLO, Step.WELCOME, Step.CLOSE, Step.DOWN):
        phase = advance(phase, step)
    assert phase is Phase.CLOSED


@pytest.mark.parametrize(
    ("theirs", "error"),
    [pytest.param(False, LocalStateError, id="ours"),
     pytest.param(True, RemoteStateError, id="theirs")],
)
def test_states_illegal_step_says_whose_fault(theirs: bool, error: type[Exception]) -> None:
    """A welcome nobody asked for is refused: our bug, or the server's."""
    with pytest.raises(error, match="welcome"):
        advance(Phase.CONNECTED, Step.WELCOME, theirs=theirs)


def test_states_signed_out_waits_for_a_login() -> None:
    """13/12 signs out: the closing link keeps it signed out; only a /login dials again."""
    phase = advance(Phase.LOGGED_IN, Step.REPLACED, theirs=True)
    assert advance(phase, Step.DOWN) is Phase.SIGNED_OUT
    assert STATUS_WORDS[phase] == "signed out"
    with pytest.raises(LocalStateError):
        advance(phase, Step.UP)
    assert advance(phase, Step.DIAL) is Phase.CONNECTING
