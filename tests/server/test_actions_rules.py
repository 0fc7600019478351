"""The rules of 31 in process (rules_kit.py), where the server's clock is a parameter: the
edit and delete windows count from the earlier of the message's ts and its acceptance."""

import pytest

from server.rules_kit import T0, TS, NodeFactory
from shared import events as ev
from shared.codes import DELETE_WINDOW, EDIT_WINDOW, ActKind, ErrorCode


@pytest.mark.parametrize(("kind", "window", "text"), [
    pytest.param(ActKind.EDIT, EDIT_WINDOW, "new", id="edit"),
    pytest.param(ActKind.DELETE, DELETE_WINDOW, "", id="delete"),
])
def test_actions_window_counts_from_acceptance_when_the_ts_ran_ahead(
        node: NodeFactory, kind: ActKind, window: int, text: str) -> None:
    """A message whose ts is far ahead of the server's clock (TS against T0) is editable and
    deletable for the window after it was accepted, not after its ts."""
    server = node()
    alice, a, _ = server.register()
    _, b, _ = server.register()
    assert server.ask(alice, ev.Send(a, b, TS, "hi"), T0) == [ev.Accepted(b, TS)]
    late = server.ask(alice, ev.Act(a, b, TS + 1, kind, a, TS, text), T0 + window + 1)
    assert [frame.code for frame in late if isinstance(frame, ev.Error)] == [ErrorCode.TOO_LATE]
    in_time = server.ask(alice, ev.Act(a, b, TS + 2, kind, a, TS, text), T0 + window)
    assert in_time == [ev.Accepted(b, TS + 2)]


def test_actions_retransmission_after_the_window_is_still_accepted(node: NodeFactory) -> None:
    """A 31 accepted in time and sent again after the window (a reconnect) gets its 16 again:
    its own key is known, so it is not judged a second time."""
    server = node()
    alice, a, _ = server.register()
    bob, b, _ = server.register()
    server.ask(alice, ev.Send(a, b, TS, "hi"), T0)
    edit = ev.Act(a, b, TS + 1, ActKind.EDIT, a, TS, "hello")
    assert server.ask(alice, edit, T0 + 60) == [ev.Accepted(b, TS + 1)]
    assert server.ask(alice, edit, T0 + EDIT_WINDOW + 60) == [ev.Accepted(b, TS + 1)]
    assert [type(frame) for frame in bob.take()] == [ev.Deliver, ev.Acted]
