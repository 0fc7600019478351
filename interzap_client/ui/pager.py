"""A pane of lines that wraps them between words and pages through them: the chat, the panels.

Theory of operation: prompt_toolkit's own wrapping cuts anywhere (inside a word,
between a letter and its accent) and scrolls only to keep a cursor in view, so
the newest line can end up mid-window with blank rows under it. PagedControl
instead cuts every line into rows itself (wrap) at the width it is given, and a
Pager picks which rows fill the height: the newest (`top` None, where a chat
stays while you read along), or from row `top` on, with a last row that says
more is below. Paging is counted in rows of the last paint, so every key press
moves the view, whichever way the previous one went.

Refuses to know what the lines say (layout.py builds them) and about keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout.controls import UIContent, UIControl
from prompt_toolkit.utils import get_cwidth

Line = StyleAndTextTuples
"""One line as written, before wrapping: (style, text) fragments, no newline."""

Cell = tuple[str, str]
"""One character with its style."""


def _cells(line: Line) -> list[Cell]:
    return [(style, char) for style, text, *_ in line for char in text]


def _join(cells: list[Cell]) -> Line:
    """Cells back into fragments, one per run of the same style."""
    line: Line = []
    for style, char in cells:
        if line and line[-1][0] == style:
            line[-1] = (style, line[-1][1] + char)
        else:
            line.append((style, char))
    return line


def _fit(cells: list[Cell], width: int) -> int:
    """How many cells fit in `width` columns (an accent stays with its letter)."""
    used = 0
    for index, (_, char) in enumerate(cells):
        used += get_cwidth(char)
        if used > width:
            return max(index, 1)  # a character wider than the pane gets a row of its own
    return len(cells)


def _cut(cells: list[Cell], width: int) -> int:
    """Where the first row ends: at the last blank that fits, else inside the word."""
    fit = _fit(cells, width)
    if fit == len(cells) or cells[fit][1] == " ":
        return fit
    blank = max((i for i in range(fit) if cells[i][1] == " "), default=0)
    return blank or fit  # a blank at 0 would leave an empty row


def wrap(line: Line, width: int, indent: int = 0) -> list[Line]:
    """`line` cut into rows of at most `width` columns, between words where it can be.

    Rows after the first start with `indent` blanks (none in a pane too narrow
    for them); no row starts with the blanks it was cut at; a word longer than
    a row is cut where the row ends. An empty line is one empty row.
    """
    if width < 2 * indent:
        indent = 0
    cells, rows, lead = _cells(line), [], 0
    while True:
        cut = _cut(cells, max(1, width - lead))
        row, cells = cells[:cut], cells[cut:]
        if cells:  # the blanks around a cut belong to neither row
            row, cells = _strip(row, -1), _strip(cells, 0)
        margin: Line = [("", " " * lead)] if lead else []
        rows.append(margin + _join(row))
        if not cells:
            return rows
        lead = indent


def _strip(cells: list[Cell], end: int) -> list[Cell]:
    """`cells` without the blanks at its start (end 0) or its end (-1)."""
    while cells and cells[end][1] == " ":
        cells = cells[1:] if end == 0 else cells[:-1]
    return cells


@dataclass
class Pager:
    """Which rows of a pane are in view: the newest (`top` None), or from row `top` on.

    `rows` and `height` are those of the last paint: paging is counted in them.
    """

    top: int | None = None
    rows: int = 0
    height: int = 0

    @property
    def _last_top(self) -> int:
        return max(0, self.rows - self.height)

    def frame(self, rows: int, height: int) -> tuple[int, int]:
        """The rows to paint, as (start, stop); stop < rows means a "more below" row follows."""
        self.rows, self.height = rows, height
        if self.top is None or self.top >= self._last_top:
            self.top = None
            return self._last_top, rows
        return self.top, self.top + max(0, height - 1)

    def reveal(self, start: int, stop: int) -> None:
        """Bring rows start..stop into view (by the last paint's sizes), if they are not."""
        if self.top is None:
            first, last = self._last_top, self.rows
        else:
            first, last = self.top, self.top + max(0, self.height - 1)
        if not (first <= start and stop <= last):
            self.top = None if start >= self._last_top else max(0, start - 1)

    def page(self, step: int) -> None:
        """Move by `step` pages: -1 towards the oldest row, +1 towards the newest."""
        top = self._last_top if self.top is None else self.top
        top += step * max(1, self.height - 2)  # a row of the last page stays in view
        self.top = None if top >= self._last_top else max(0, top)


class PagedControl(UIControl):
    """The rows a Pager picks from `lines()` wrapped at the pane's width, and a "more" row.

    A line's rows are kept from one paint to the next while the width stays, so a
    long chat is not wrapped again at every key press (only the lines of the last
    paint are kept).
    """

    def __init__(self, lines: Callable[[], list[Line]], pager: Callable[[], Pager],
                 more: Line, indent: Callable[[], int] = lambda: 0,
                 anchor: Callable[[list[Line]], int | None] = lambda lines: None) -> None:
        self.lines = lines
        self.pager = pager
        self.more = more
        self.indent = indent  # of the rows a line wraps onto
        self.anchor = anchor  # the line to bring into view when it changes (a selection)
        self._anchored: tuple[Any, ...] | None = None
        self._shape = (0, 0)  # the width and indent of the last paint
        self._rows: dict[tuple[Any, ...], list[Line]] = {}  # a line -> its rows then

    def _wrapped(self, width: int) -> tuple[list[Line], tuple[int, int] | None]:
        """The rows of every line, and where the anchor line's rows are, if it moved."""
        shape = (width, self.indent())
        known = self._rows if shape == self._shape else {}
        self._rows, self._shape = {}, shape
        lines = self.lines()
        anchor = self.anchor(lines)
        moved = None if anchor is None else tuple(lines[anchor])
        rows: list[Line] = []
        place = None
        for index, line in enumerate(lines):
            key = tuple(line)
            found = known.get(key) or wrap(line, *shape)
            self._rows[key] = found
            if index == anchor and moved != self._anchored:
                place = (len(rows), len(rows) + len(found))
            rows.extend(found)
        self._anchored = moved
        return rows, place

    def create_content(self, width: int, height: int) -> UIContent:
        rows, place = self._wrapped(width)
        pager = self.pager()
        if place is not None:
            pager.rows, pager.height = len(rows), height
            pager.reveal(*place)
        start, stop = pager.frame(len(rows), height)
        shown = rows[start:stop]
        if stop < len(rows):
            shown.append(self.more)
        return UIContent(get_line=lambda i: shown[i], line_count=len(shown),
                         show_cursor=False)

    def is_focusable(self) -> bool:
        return False
