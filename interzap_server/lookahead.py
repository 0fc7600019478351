"""A node's look at an iteration's frames before it handles them (docs/SCALING.md,
"Statements per message").

The loop hands the service every frame of an iteration first (Service.prepare);
before the first of each PREFETCH of them, the service has the store lock the
queue heads their 1:1 05s and 12s will write to and fetch what those frames
will ask, in one round trip (storage/heads.py). A commit in between (the
batch held its locks too long) loses what was fetched, and the frames left
are fetched for again.

A node also handles again, in its next batches, the 12s and 08s that failed
(Retries): nobody answers them, so nobody would send them again, and a lock
wait cancelled by another node's long batch would cost a 07 or a 09.

Knows events, ids and links; knows no SQL, no sockets and no chat rule.
"""

from collections import deque
from collections.abc import Callable, Iterable
from itertools import islice

from interzap_server.rules import Item
from interzap_server.sessions import Link
from shared import events as ev
from shared.codec import Side, decode
from shared.ids import is_group_id

PREFETCH = 64
"""Frames an iteration fetches for at a time: their locks are held while they are handled,
so a long iteration takes them a slice at a time."""

RETRIES = 3
"""Times a failed 12 or 08 is handled again before it is given up (and said in the log)."""

Frame = tuple[Link, Item]


class LookAhead:
    """The iteration's frames not yet handled, and how many of them the last fetch covered."""

    def __init__(self) -> None:
        self._ahead: deque[Frame] = deque()
        self._covered = 0

    def start(self, frames: Iterable[Frame]) -> None:
        """The iteration's frames, in the order they will be handled."""
        self._ahead, self._covered = deque(frames), 0

    def lost(self) -> None:
        """What was fetched went with a commit: fetch again before the next frame."""
        self._covered = 0

    def step(self) -> list[Frame]:
        """Before the next frame: the frames to fetch for now (it and up to PREFETCH - 1
        after it), or none if the last fetch covers it (or nothing was prepared)."""
        if not self._ahead:
            return []
        due = []
        if not self._covered:
            self._covered = min(len(self._ahead), PREFETCH)
            due = list(islice(self._ahead, self._covered))
        self._ahead.popleft()
        self._covered -= 1
        return due


Needs = tuple[dict[str, set[str]], set[str], set[tuple[str, str, int]]]
"""What an iteration's 1:1 frames ask: recipients with their senders, authors, keys."""


def needs(frames: Iterable[Frame], logged_in: Callable[[Link], bool]) -> Needs:
    """What the 1:1 frames among these will ask of the database: the recipients of 05s,
    each with its senders (the block check), the authors owed a 07 by 12s, and the
    05s' keys (dst, src, ts: a retransmission?). Nothing is refused here: the rules do
    that when they handle the frames."""
    recipients: dict[str, set[str]] = {}
    authors: set[str] = set()
    keys: set[tuple[str, str, int]] = set()
    for link, item in frames:
        if (isinstance(item, ev.Send | ev.Receipt) and not is_group_id(item.dst)
                and logged_in(link)):
            if isinstance(item, ev.Send):
                recipients.setdefault(item.dst, set()).add(item.src)
                keys.add((item.dst, item.src, item.ts))
            else:
                authors.add(item.src)
    return recipients, authors, keys


class Retries:
    """Silent frames (12, 08) that wrote and failed: handled again at the next batch."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Link, bytes]] = []
        self._tries: dict[tuple[Link, bytes], int] = {}

    def retry(self, link: Link, line: bytes) -> None:
        """A silent frame (its line, without LF) failed: again at the next batch, unless
        it failed RETRIES times already."""
        tries = self._tries.get((link, line), 0) + 1
        if line and tries <= RETRIES:
            self._tries[link, line] = tries
            self._waiting.append((link, line))
        else:
            self._tries.pop((link, line), None)

    def due(self) -> list[tuple[Link, Item, bytes]]:
        """The frames to handle again now, decoded, in the order they failed; a frame
        handled again is forgotten unless it fails again (retry())."""
        waiting, self._waiting = self._waiting, []
        if not waiting:
            self._tries.clear()
        return [(link, decode(line, Side.CLIENT), line) for link, line in waiting]
