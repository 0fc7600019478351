"""/search: every message of the history that holds all the words, newest first.

Theory of operation: the journal is replayed whole at start-up (history.py),
so State.messages is the history on disk. A Finder keeps beside it a folded
copy of each text (fold(): NFKD, casefold, combining marks dropped, so `Cafe`
finds `café` and `CAFÉ`), built at the first search and brought up to date
before each later one: messages added since are folded (State.messages keeps
arrival order, so they are its tail), and a text replaced in place (an edit)
is found by identity and folded again. A search is then a scan of plain
strings, the rarest-looking (longest) word first: about 10 ms per 100,000
messages on the bench machine, for a copy costing about as much memory as the
texts themselves (bench/README.md, "Session 6: search"). Where a hit matches
is worked out only for the hits shown (spans()).
Refuses to know about files, the network and how results are shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, is_not

from interzap_client.state import Message, State

MAX_HITS = 100
"""Most results one search gives (the newest); it says how many there were in all."""

_text_of = attrgetter("text")

_MARKS = dict.fromkeys(code for code in range(0x20000) if unicodedata.combining(chr(code)))
"""Every combining mark -> deleted (912 code points in Unicode 15, all below U+20000)."""
_NON_ASCII = re.compile("[^\x00-\x7f]+")
_SEPARATOR = "\x00"  # in no message text (PROTOCOL.md, "Text"): it joins texts to fold at once


def _unmarked(run: re.Match[str]) -> str:
    return run[0].translate(_MARKS)


def fold(text: str) -> str:
    """`text` as a search compares it: compatibility-decomposed, case-folded, unaccented.

    Marks are looked for only in the runs of non-ASCII characters, which the
    regular expression engine finds at C speed: most texts have few or none.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return _NON_ASCII.sub(_unmarked, decomposed)


def fold_all(texts: list[str]) -> list[str]:
    """fold() of each text, done on them joined (a fifth of the time of one call each):
    decomposition and case folding never cross the separator, a starter character."""
    return fold(_SEPARATOR.join(texts)).split(_SEPARATOR) if texts else []


def words_of(query: str) -> list[str]:
    """The folded words of a query, longest first (the fewest texts hold it), no repeats."""
    return sorted({w for w in fold(query).split() if w}, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Hit:
    """One message that holds every word; `peer` is its conversation."""

    peer: str
    message: Message


@dataclass(frozen=True, slots=True)
class Found:
    """The newest hits (at most MAX_HITS) and how many there were in all."""

    hits: tuple[Hit, ...]
    total: int


class Finder:
    """The folded copy of one State's texts, kept up to date, and the search over it."""

    def __init__(self) -> None:
        self._state: State | None = None
        self._messages: list[Message] = []
        self._texts: list[str] = []  # each message's text when it was folded
        self._folded: list[str] = []
        self._when: list[int] = []  # each message's shown_at, the order of the results

    def search(self, state: State, query: str, peer: str | None = None) -> Found:
        """Messages holding every word of `query` (in the chat with `peer` only, if given)."""
        words = words_of(query)
        if not words:
            return Found((), 0)
        self._update(state)
        found = self._scan(words)
        if peer is not None:
            found = [i for i in found
                     if state.peer_of(self._messages[i].src, self._messages[i].dst) == peer]
        messages = self._messages
        found.reverse()  # the later arrival first among equal times (the sort is stable)
        found.sort(key=self._when.__getitem__, reverse=True)
        hits = tuple(Hit(state.peer_of(messages[i].src, messages[i].dst), messages[i])
                     for i in found[:MAX_HITS])
        return Found(hits, len(found))

    def _scan(self, words: list[str]) -> list[int]:
        first, *others = words
        found = [i for i, text in enumerate(self._folded) if first in text]
        for word in others:
            folded = self._folded
            found = [i for i in found if word in folded[i]]
        return found

    def _update(self, state: State) -> None:
        known = len(self._messages)
        if (state is not self._state or len(state.messages) < known
                or (known and _last(state) is not self._messages[-1]
                    and len(state.messages) == known)):
            self._state, known = state, 0  # another account, or messages went: start again
            self._messages, self._texts, self._folded, self._when = [], [], [], []
        self._add(islice(state.messages.values(), known, None))
        for i in self._changed():
            text = self._messages[i].text
            self._texts[i], self._folded[i] = text, fold(text)

    def _add(self, messages: Iterable[Message]) -> None:
        new = list(messages)
        texts = [m.text for m in new]
        self._messages += new
        self._texts += texts
        self._folded += fold_all(texts)
        self._when += [m.shown_at for m in new]

    def _changed(self) -> list[int]:
        """Indexes of messages whose text is not the one folded (edited since)."""
        stale = map(is_not, map(_text_of, self._messages), self._texts)
        return [i for i, differs in enumerate(stale) if differs]


def _last(state: State) -> Message | None:
    return next(reversed(state.messages.values()), None)


def spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where the words of `query` are in `text`: sorted, merged (start, stop) indexes.

    Each character is folded on its own, remembering which character each folded
    one came from, so a match in the folded text maps back to the characters
    shown (an accent dropped by fold() stays with its letter).
    """
    folded: list[str] = []
    owner: list[int] = []
    for index, char in enumerate(text):
        part = fold(char)
        folded.append(part)
        owner.extend([index] * len(part))
    flat = "".join(folded)
    found: list[tuple[int, int]] = []
    for word in words_of(query):
        start = flat.find(word)
        while start >= 0:
            stop = owner[start + len(word) - 1] + 1
            while stop < len(text) and not folded[stop]:
                stop += 1  # the marks that belong to the last letter
            found.append((owner[start], stop))
            start = flat.find(word, start + 1)
    return _merged(sorted(found))


def _merged(found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged
