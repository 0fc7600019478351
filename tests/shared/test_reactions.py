"""Tests of shared.reactions: what one emoji is, for a 31 of kind X."""

import pytest

from shared.reactions import MAX_REACTION, reaction_problem

ONE_EMOJI = [
    pytest.param("\U0001f44d", id="thumbs-up"),
    pytest.param("\u2764\ufe0f", id="heart-with-selector"),
    pytest.param("\u2764", id="heart-bare"),
    pytest.param("\U0001f44d\U0001f3fd", id="skin-tone"),
    pytest.param("\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", id="family-zwj"),
    pytest.param("\U0001f1f5\U0001f1f9", id="flag"),
    pytest.param("1\ufe0f\u20e3", id="keycap"),
    pytest.param("\U0001f3f3\ufe0f\u200d\U0001f308", id="rainbow-flag"),
]
NOT_ONE = [
    pytest.param("", id="empty"),
    pytest.param("a", id="letter"),
    pytest.param("ok", id="word"),
    pytest.param("\U0001f44d\U0001f44d", id="two-emoji"),
    pytest.param("\U0001f44d ", id="emoji-and-blank"),
    pytest.param("\U0001f44d\u200d", id="trailing-joiner"),
    pytest.param("\U0001f1f5", id="half-a-flag"),
    pytest.param("\U0001f44d" + "\ufe0f" * MAX_REACTION, id="too-long"),
]


@pytest.mark.parametrize("text", ONE_EMOJI)
def test_reactions_accepts_one_emoji(text: str) -> None:
    """One emoji, however many code points make it, is a reaction."""
    assert reaction_problem(text) is None


@pytest.mark.parametrize("text", NOT_ONE)
def test_reactions_refuses_anything_else(text: str) -> None:
    """Text, several emoji, half of one or nothing is not a reaction, and says why."""
    assert reaction_problem(text)
