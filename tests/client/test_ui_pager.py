"""ui/pager: lines wrapped between words, and pages counted in the rows last painted."""

from __future__ import annotations

import unicodedata

import pytest
from uikit import text_of

from interzap_client.ui.pager import Pager, wrap


def rows(text: str, width: int, indent: int = 0) -> list[str]:
    return [text_of(row) for row in wrap([("", text)], width, indent)]


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        pytest.param("a short line", 20, ["a short line"], id="fits"),
        pytest.param("", 10, [""], id="empty"),
        pytest.param("my résumé is here", 10, ["my résumé", "is here"], id="between-words"),
        pytest.param("aaaa bbbb", 4, ["aaaa", "bbbb"], id="blank-at-the-edge"),
        pytest.param("abcdefghij", 4, ["abcd", "efgh", "ij"], id="word-longer-than-a-row"),
        pytest.param("a   b", 2, ["a", "b"], id="blanks-not-carried-over"),
        pytest.param("日本語です", 4, ["日本", "語で", "す"], id="wide-characters"),
    ],
)
def test_pager_wrap(text: str, width: int, expected: list[str]) -> None:
    """A line is cut between words into rows no wider than the pane."""
    assert rows(text, width) == expected


def test_pager_wrap_keeps_an_accent_with_its_letter() -> None:
    """A combining accent stays on the row of the letter it sits on, even inside a cut word."""
    def nfd(text: str) -> str:
        return unicodedata.normalize("NFD", text)  # é as e and U+0301

    assert rows(nfd("résumé"), 2) == [nfd("ré"), "su", nfd("mé")]


def test_pager_wrap_indents_the_rows_after_the_first() -> None:
    """Rows a line wraps onto start with the indent; a narrow pane gets none."""
    assert rows("12:00 one two three", 12, indent=6) == ["12:00 one", "      two", "      three"]
    assert rows("12:00 one two", 8, indent=6) == ["12:00", "one two"]


def test_pager_wrap_keeps_styles() -> None:
    """Each piece of a wrapped row keeps the style it had."""
    assert wrap([("a", "one "), ("b", "two")], 5) == [[("a", "one")], [("b", "two")]]


def test_pager_follows_the_newest_rows() -> None:
    """At first, the last `height` rows are in view, whatever arrives."""
    pager = Pager()
    assert pager.frame(100, 10) == (90, 100)
    assert pager.frame(103, 10) == (93, 103)
    assert pager.frame(5, 10) == (0, 5)


@pytest.mark.parametrize(
    ("rows", "steps", "frames"),
    [
        pytest.param(100, [-1, +1, -1, -1, +1], [(82, 91), (90, 100), (82, 91), (74, 83),
                                                 (82, 91)], id="every-key-moves"),
        pytest.param(12, [-1, -1, +1], [(0, 9), (0, 9), (2, 12)], id="stops-at-the-oldest"),
    ],
)
def test_pager_pages(rows: int, steps: list[int], frames: list[tuple[int, int]]) -> None:
    """Each key moves the view whichever way the last went, a row of the last page kept;
    scrolled back, 9 rows and a "more below" row; at the newest, no mark."""
    pager = Pager()
    pager.frame(rows, 10)
    seen = []
    for step in steps:
        pager.page(step)
        seen.append(pager.frame(rows, 10))
    assert seen == frames


def test_pager_from_the_top_stays_while_rows_arrive() -> None:
    """A pager scrolled back keeps its rows in view when new rows come below."""
    pager = Pager(top=0)
    assert pager.frame(30, 10) == (0, 9)
    assert pager.frame(40, 10) == (0, 9)
    assert pager.top == 0
