"""/search: every message of the history that holds all the words, newest first.

Theory of operation: the journal is replayed whole at start-up (history.py),
so State.messages is the history on disk. A Finder keeps beside it a folded
copy of each text (fold(): NFKD, casefold, combining marks dropped, so `Cafe`
finds `café` and `CAFÉ`), made in the background once an account is loaded
(prepare()) and brought up to date before each search: messages added since
are folded (State.messages keeps arrival order, so they are its tail), and
after a journal record that may change a text in place (an edit: History
tells heard()) the texts are compared and the changed ones folded again. A
search is then a scan of plain strings, the longest (likely rarest) word
first: tens of milliseconds for 100,000 messages, for a copy costing about as
much memory as the texts themselves (bench/README.md, "Session 6: search").
Where a hit matches is worked out only for the hits shown (spans()).
Refuses to know about files, the network and how results are shown.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress, count
from operator import is_not

from interzap_client.conversations import Message
from interzap_client.state import State

SLICE = 5_000
"""Messages folded at a time by Finder.prepare() (some 10 ms) before the event loop runs."""
SAMPLE = 1_000
"""Texts in which a search counts each word, to look for the rarest first."""
MAX_HITS = 100
"""Most results one search gives (the newest); it says how many there were in all."""

TEXTS_KEPT = frozenset({"msg", "tick", "read", "seen", "late", "group", "create",
                        "drop_create", "alias", "stamp", "blocks"})
"""Journal records that change no text already there ("msg" adds one at the end)."""



def _ranges(codes: Iterable[int]) -> str:
    """A regular expression class body for these code points (ascending), as ranges."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"{chr(a)}-{chr(b)}" for a, b in runs)


_MARK_CODES = [code for code in range(0x20000) if unicodedata.combining(chr(code))]
"""Every combining mark: 912 code points in Unicode 15, all below U+20000."""
_BMP_MARKS = re.compile(f"[{_ranges(code for code in _MARK_CODES if code <= 0xFFFF)}]+")
"""The marks below U+10000: a class the engine tests by table, at C speed."""
_ASTRAL_MARKS = dict.fromkeys(code for code in _MARK_CODES if code > 0xFFFF)
"""The others, for str.translate (a class holding them would be tested range by range)."""
_ASTRAL = re.compile("[\U00010000-\U0010ffff]+")
_SEPARATOR = "\x00"  # in no message text (PROTOCOL.md, "Text"): it joins texts to fold at once


def _unmarked(run: re.Match[str]) -> str:
    return run[0].translate(_ASTRAL_MARKS)


def fold(text: str) -> str:
    """`text` as a search compares it: compatibility-decomposed, case-folded, unaccented.

    That is NFKD(casefold(NFKD(text))) without its combining marks, as Unicode's
    compatibility caseless matching says, done the quick way: the second NFKD only
    if case folding undid the first, the marks of an emoji's plane looked for only
    in the runs of characters above U+FFFF.
    """
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text).casefold()
    if not unicodedata.is_normalized("NFKD", folded):
        folded = unicodedata.normalize("NFKD", folded)
    folded = _BMP_MARKS.sub("", folded)
    return _ASTRAL.sub(_unmarked, folded) if not folded.isascii() else folded


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
    """The folded copy of one State's texts, kept up to date, and the search over it.

    Keeping it up to date touches no Message unless a journal record that may
    change a text in place was applied (heard()): with 100,000 messages, merely
    visiting each one costs more in cache misses than the whole scan.
    """

    def __init__(self) -> None:
        self._state: State | None = None
        self._messages: list[Message] = []
        self._texts: list[str] = []  # each message's text when it was folded (State's own)
        self._folded: list[str] = []
        self._when = array("q")  # each message's shown_at: the order of the results
        self._edited = False  # a text may have changed in place since the last update

    def heard(self, record: Mapping[str, object]) -> None:
        """A journal record was applied (History.watchers): any but those known to leave
        every text alone (an edit, a deletion) has the texts compared at the next search."""
        if record.get("t") not in TEXTS_KEPT:
            self._edited = True

    def search(self, state: State, query: str, peer: str | None = None) -> Found:
        """Messages holding every word of `query` (in the chat with `peer` only, if given)."""
        words = words_of(query)
        if not words:
            return Found((), 0)
        self._update(state)
        found = self._scan(words)
        messages = self._messages
        if peer is not None:
            chat = {id(m) for m in state.conversation(peer).messages}
            found = [i for i in found if id(messages[i]) in chat]
        found.reverse()  # the later arrival first among equal times (the sort is stable)
        found.sort(key=self._when.__getitem__, reverse=True)
        hits = tuple(Hit(state.peer_of(messages[i].src, messages[i].dst), messages[i])
                     for i in found[:MAX_HITS])
        return Found(hits, len(found))

    def _scan(self, words: list[str]) -> list[int]:
        """Indexes of the texts holding every word, the rarest in the newest SAMPLE first
        (the others are looked for in its hits only)."""
        folded = self._folded
        sample = folded[-SAMPLE:]
        first, *others = sorted(words, key=lambda w: sum(w in text for text in sample))
        found = [i for i, text in enumerate(folded) if first in text]
        for word in others:
            found = [i for i in found if word in folded[i]]
        return found

    async def prepare(self, state: State) -> None:
        """Fold `state`'s history SLICE messages at a time, letting the event loop run
        between slices: started when an account is loaded, so that the first /search is
        as quick as the next ones and the client's start is not held up."""
        while not self._update(state, SLICE):
            await asyncio.sleep(0)

    def _update(self, state: State, most: int | None = None) -> bool:
        """Fold what is new (at most `most` messages); whether the copy is up to date.

        Lists compare item by item, identical objects at once: seeing that only new
        messages came is a comparison in C that touches no message.
        """
        messages = list(state.messages.values())
        known = len(self._messages)
        if state is not self._state or messages[:known] != self._messages:
            self._clear(state)  # another account, or messages went: start again
            known = 0
        self._add(messages[known:None if most is None else known + most])
        if len(self._messages) < len(messages):
            return False
        if self._edited:
            self._refold()
        return True

    def _clear(self, state: State) -> None:
        self._state, self._messages, self._texts = state, [], []
        self._folded, self._when = [], array("q")

    def _add(self, new: list[Message]) -> None:
        texts = [m.text for m in new]
        self._messages += new
        self._texts += texts
        self._folded += fold_all(texts)
        self._when += array("q", (m.shown_at for m in new))

    def _refold(self) -> None:
        """Fold again each text replaced since it was folded."""
        self._edited = False
        texts = [m.text for m in self._messages]
        if texts == self._texts:
            return
        for i in list(compress(count(), map(is_not, texts, self._texts))):
            self._texts[i], self._folded[i] = texts[i], fold(texts[i])


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
