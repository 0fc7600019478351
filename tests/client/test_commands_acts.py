"""Parsing /reply, /edit, /delete, /react and /reactions: the optional REF (#N, AUTHOR@TS)
before the text, and the refusals."""

import pytest

from interzap_client import commands as cmd
from interzap_client import intents
from shared.codes import ActKind

TS = "1764000000"


@pytest.mark.parametrize(("line", "action"), [
    pytest.param("/reply sure", intents.ActOn(ActKind.REPLY, None, "sure"), id="reply"),
    pytest.param("/reply #2 sure thing", intents.ActOn(ActKind.REPLY, "#2", "sure thing"),
                 id="reply-nth"),
    pytest.param("/reply #2", intents.ActOn(ActKind.REPLY, None, "#2"), id="reply-just-a-tag"),
    pytest.param(f"/reply bob@{TS}  ok", intents.ActOn(ActKind.REPLY, f"bob@{TS}", "ok"),
                 id="reply-by-key"),
    pytest.param("/edit fixed it", intents.ActOn(ActKind.EDIT, None, "fixed it"), id="edit"),
    pytest.param(f"/edit me@{TS} fixed", intents.ActOn(ActKind.EDIT, f"me@{TS}", "fixed"),
                 id="edit-by-key"),
    pytest.param("/delete", intents.ActOn(ActKind.DELETE, None), id="delete"),
    pytest.param("/delete #3", intents.ActOn(ActKind.DELETE, "#3"), id="delete-nth"),
    pytest.param("/react \U0001f44d", intents.ActOn(ActKind.REACT, None, "\U0001f44d"), id="react"),
    pytest.param("/react #1 \U0001f44d", intents.ActOn(ActKind.REACT, "#1", "\U0001f44d"),
                 id="react-nth"),
    pytest.param("/reactions", intents.Reactions(None), id="reactions"),
    pytest.param(f"/reactions Client-000002@{TS}", intents.Reactions(f"Client-000002@{TS}"),
                 id="reactions-by-key"),
])
def test_commands_acts_parse(line: str, action: intents.Action) -> None:
    """Each command builds its action; a REF only where one is written."""
    assert cmd.parse(line) == action


@pytest.mark.parametrize("line", [
    pytest.param("/delete yesterday", id="delete-not-a-ref"),
    pytest.param("/delete #0", id="delete-zero"),
    pytest.param("/react", id="react-nothing"),
    pytest.param("/react oops \U0001f44d", id="react-bad-ref"),
    pytest.param("/reply", id="reply-nothing"),
    pytest.param(f"/reactions bob@{TS[:-1]}", id="reactions-short-ts"),
])
def test_commands_acts_refused(line: str) -> None:
    """A word that names no message, or a missing text, says how to write it."""
    with pytest.raises(cmd.CommandError):
        cmd.parse(line)


def test_commands_acts_in_help() -> None:
    """/help lists each of them."""
    help_text = "\n".join(cmd.help_lines())
    for name in ("/reply", "/edit", "/delete", "/react", "/reactions"):
        assert f"\n{name} " in help_text
