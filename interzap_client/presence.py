"""Who is typing where, who is online or when last seen, and the last info (26) per
message: what the client learns from ephemeral frames (27, 30) and from 26.

Kept in memory only: none of it is journaled, because none of it is true for
long (a typing notice lasts seconds, a presence until the next 30). No clock of
its own, no sockets, no screens: every time is a parameter, so tests drive it.
Also the words the front ends show for it ("bob is typing…", "last seen 14:03").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shared.events import HIDDEN, ONLINE

TYPING_SHOWN = 6.0
"""Seconds a typing notice is shown after the last 27 heard (the sender repeats one every
TYPING_EVERY seconds while typing, so a notice outlives one lost or late repeat)."""
TYPING_EVERY = 3.0
"""Seconds between two 27s this client sends for one chat while its user types."""

Receipts = tuple[tuple[str, int, int], ...]
"""A 26's per-member states: (member, delivered at, read at), 0 for not yet."""


@dataclass(slots=True)
class Presence:
    """Typing notices, presence, and info answers, with the times they were learnt."""

    typing: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per chat, per user typing in it: until when the notice is shown (client clock)."""
    seen: dict[str, int] = field(default_factory=dict)
    """Per user: the ts of their last 30 (ONLINE, HIDDEN, or a last seen)."""
    info: dict[tuple[str, int], Receipts] = field(default_factory=dict)
    """Per (group, ts) of one of our messages: the last 26 about it."""
    sent_typing: dict[str, float] = field(default_factory=dict)
    """Per chat: when this client last sent a 27 there."""

    def heard_typing(self, user: str, chat: str, now: float) -> None:
        """A 27: `user` is typing in `chat` (their id for 1:1, the group's for a group)."""
        self.typing.setdefault(chat, {})[user] = now + TYPING_SHOWN

    def heard_message(self, user: str, chat: str) -> bool:
        """A message from `user` in `chat` arrived: they stopped typing. Whether it changed."""
        return self.typing.get(chat, {}).pop(user, None) is not None

    def typists(self, chat: str, now: float) -> list[str]:
        """Who is typing in `chat` at `now`, in the order first heard; the expired are
        forgotten."""
        users = self.typing.get(chat)
        if not users:
            return []
        for user in [u for u, until in users.items() if until <= now]:
            del users[user]
        return list(users)

    def next_expiry(self, now: float) -> float | None:
        """When the next typing notice shown at `now` goes away (for a repaint)."""
        times = [until for users in self.typing.values() for until in users.values()
                 if until > now]
        return min(times, default=None)

    def may_send_typing(self, chat: str, now: float) -> bool:
        """Whether a 27 for `chat` may leave now (at most one every TYPING_EVERY seconds);
        if so, it counts as sent."""
        last = self.sent_typing.get(chat)
        if last is not None and now - last < TYPING_EVERY:
            return False
        self.sent_typing[chat] = now
        return True

    def stopped_typing(self, chat: str) -> None:
        """Our message to `chat` left: the next keystroke may say "typing" at once."""
        self.sent_typing.pop(chat, None)

    def forget(self) -> None:
        """The connection went: typing and presence heard on it are no longer known."""
        self.typing.clear()
        self.seen.clear()


def typing_words(names: Iterable[str]) -> str | None:
    """"bob is typing…", "bob, carol are typing…"; None when nobody is."""
    names = list(names)
    if not names:
        return None
    verb = "is" if len(names) == 1 else "are"
    return f"{', '.join(names)} {verb} typing…"


def presence_words(ts: int | None, now: float,
                   local: Callable[[float], time.struct_time] = time.localtime) -> str | None:
    """"online", "last seen 14:03" (today), "last seen 2026-12-05 14:03"; None when not
    known or hidden."""
    if ts is None or ts == HIDDEN:
        return None
    if ts == ONLINE:
        return "online"
    then, today = local(ts), local(now)
    clock = time.strftime("%H:%M", then)
    if then[:3] == today[:3]:
        return f"last seen {clock}"
    return f"last seen {time.strftime('%Y-%m-%d', then)} {clock}"


def receipt_words(member: str, delivered: int, read: int,
                  local: Callable[[float], time.struct_time] = time.localtime) -> str:
    """One member's line of /info: "bob: read 14:05 (delivered 14:03)"."""

    def at(ts: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M", local(ts))

    if read:
        return f"{member}: read {at(read)} (delivered {at(delivered)})"
    if delivered:
        return f"{member}: delivered {at(delivered)}, not read yet"
    return f"{member}: not delivered yet"
