"""What replies, edits, deletions and reactions do to the messages they refer to.

A 31/32 refers to a message by its author and ts in one chat; in a group the
chat is the group, in a 1:1 chat the message went the other way if its author
is not the act's author (original_key). An edit, deletion or reaction is an
Act, kept by its own key so that a 32 delivered again is never applied twice;
a reply is a message with `reply` set (state.py). Each act changes its
message only if it is newer than what already changed it: edits and reactions
compare ts, so applying them in any order gives one picture, which is what
replaying a journal and its compacted snapshot need. A deletion is final:
it empties the message's text, and the text of the edits of it that are kept,
so that the next snapshot (history.py) holds no word of it.

Pure data, as state.py: no files, no clock, no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from interzap_client.lines import split_lines
from shared.codes import TOMBSTONE, ActKind
from shared.ids import is_group_id

if TYPE_CHECKING:
    from interzap_client.conversations import Key, Message, Tick

QUOTE_LENGTH = 40
"""Characters of the original a reply shows above itself."""
UNKNOWN_ORIGINAL = "a message you do not have"
"""What a reply quotes when the message it answers is not in the history."""


@dataclass(slots=True)
class Act:
    """An edit, deletion or reaction (kind E, D, X), own (tick given) or received."""

    src: str
    dst: str
    ts: int
    kind: str
    ref_src: str
    ref_ts: int
    text: str
    tick: Tick | None = None
    at: int | None = None

    @property
    def key(self) -> Key:
        return (self.src, self.dst, self.ts)

    @property
    def own(self) -> bool:
        return self.tick is not None


def original_key(src: str, dst: str, ref_src: str, ref_ts: int) -> Key:
    """The key of the message that an act (src, dst) about (ref_src, ref_ts) refers to."""
    if is_group_id(dst) or ref_src == src:
        return (ref_src, dst, ref_ts)
    return (ref_src, src, ref_ts)  # the other's message: it was sent to the act's author


def apply(message: Message, act: Act) -> bool:
    """Change `message` by `act` if the act is newer than what changed it already."""
    if message.deleted:
        return False  # final: no text, no reactions
    if act.kind == ActKind.REACT:
        before = message.reactions.get(act.src)
        if before is not None and before[0] >= act.ts:
            return False
        message.reactions[act.src] = (act.ts, act.text)
        return True
    if act.src != message.src:
        return False  # only the author edits or deletes (the server checks it too)
    if act.kind == ActKind.DELETE:
        message.deleted, message.text, message.edited = True, "", 0
        message.reactions.clear()
        return True
    if act.ts <= message.edited:
        return False
    message.text, message.edited = act.text, act.ts
    return True


def shown_text(message: Message) -> str:
    """The text to show and export: the newest edit's, or the tombstone."""
    return TOMBSTONE if message.deleted else message.text


def quote(message: Message | None) -> str:
    """The start of the text a reply shows above itself, on one line."""
    if message is None:
        return UNKNOWN_ORIGINAL
    text = " ".join(split_lines(shown_text(message)))
    return text if len(text) <= QUOTE_LENGTH else text[:QUOTE_LENGTH - 1] + "…"


def reaction_counts(message: Message) -> list[tuple[str, int]]:
    """Each emoji on the message with how many people chose it, most first, then by emoji."""
    counts: dict[str, int] = {}
    for _, emoji in message.reactions.values():
        if emoji:
            counts[emoji] = counts.get(emoji, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def reactors(message: Message) -> dict[str, list[str]]:
    """Per emoji, who chose it (in the order of their ids)."""
    who: dict[str, list[str]] = {}
    for person, (_, emoji) in sorted(message.reactions.items()):
        if emoji:
            who.setdefault(emoji, []).append(person)
    return who
