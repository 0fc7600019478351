"""One chat and its messages: Message and its Tick, Conversation, a group not yet created.

The data state.py keeps per chat, and the few facts they answer themselves
(unread counts, when a message was sent, whether it is ours). Changing them is
state.py's business, through the methods history.py journals; this module
refuses to know about other chats, the journal, clocks and the user interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from interzap_client.message_acts import Act
from shared.ids import is_group_id

Key = tuple[str, str, int]
"""A message's identity on the wire: (src, dst, ts) (PROTOCOL.md, "Message identity")."""


class Tick(IntEnum):
    """How far one of our own messages got; ticks only ever move up (repeats are harmless)."""

    FAILED = -1
    """Refused by the server (13); it will never be sent again."""
    PENDING = 0
    """Typed, not yet answered with 16: in the outbox."""
    ACCEPTED = 1
    """16: committed by the server (✓)."""
    DELIVERED = 2
    """07: stored by every recipient's client (✓✓)."""
    READ = 3
    """09: read by every recipient (✓✓ in the read colour)."""


@dataclass(slots=True)
class Message:
    """One message of a conversation; `tick` is None for messages we received."""

    src: str
    dst: str
    ts: int
    text: str
    tick: Tick | None = None
    at: int | None = None
    """Our clock when we sent it (own) or stored it (received); None in older journals."""
    reply: tuple[str, int] | None = None
    """A reply: the (author, ts) of the message it answers, in the same chat."""
    edited: int = 0  # the ts of the newest edit applied; 0: never edited
    deleted: bool = False  # deleted for everyone: the text is gone
    reactions: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Who reacted -> (the ts of their newest reaction act, the emoji; "" taken back)."""

    @property
    def key(self) -> Key:
        return (self.src, self.dst, self.ts)

    @property
    def shown_at(self) -> int:
        """When to say it was sent: the earlier of its ts and `at`.

        A ts runs ahead of the clock after a burst (next_ts), so it alone may lie by
        minutes; `at` alone would date a message that waited in the server's queue
        by its arrival. The earlier of the two is honest in both cases (PROTOCOL.md 2).
        """
        return self.ts if self.at is None else min(self.ts, self.at)

    @property
    def own(self) -> bool:
        return self.tick is not None


@dataclass(slots=True)
class Conversation:
    """A chat with one user or one group, named by that peer's id."""

    peer: str
    messages: list[Message] = field(default_factory=list)
    members: tuple[str, ...] = ()  # groups only, creator first
    seen: int = 0  # we sent 08 up to this ts: received messages after it are unread
    # received messages that arrived after an 08 already covering their ts (a group
    # author's clock behind another's): unread all the same, until the next 08
    late: set[Key] = field(default_factory=set)
    last_own_ts: int = 0  # newest ts we used towards this peer (keys are never reused)
    created: int = 0  # for groups: the ts of the 11, so a new empty group sorts by it
    acts: list[Act] = field(default_factory=list)  # edits, deletions, reactions here

    @property
    def is_group(self) -> bool:
        return is_group_id(self.peer)

    @property
    def unread(self) -> int:
        return sum(1 for m in self.messages if not m.own and not self.is_read(m))

    def is_read(self, message: Message) -> bool:
        """Whether we sent an 08 covering this received message."""
        return message.ts <= self.seen and message.key not in self.late

    @property
    def last_time(self) -> int:
        return max((m.shown_at for m in self.messages), default=self.created)

    def newest_received(self) -> int:
        """The ts an 08 must carry to cover everything received here (0: nothing)."""
        return max((m.ts for m in self.messages if not m.own), default=0)


@dataclass(slots=True)
class PendingGroup:
    """A 10 we sent and that no 11 answered yet; (me, ts) is its key."""

    ts: int
    members: tuple[str, ...]
    name: str | None = None  # /group NAME: ...: renamed (23) once the 11 comes
