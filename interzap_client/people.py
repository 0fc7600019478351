"""Who is called what, and how groups change: display names (22), group names and admins,
group changes (24) as lines of their chat, and our own 21 and 23s awaiting an answer.

Part of the State (State.people), changed only through State's mutation methods
(named, want_name, change, drop_change, group_event, group_info, notes), which
history.py journals and replays. Also the words for a group change, shared by
the scripted mode and the screen. Refuses to know about sockets, files, clocks
and the user interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.codes import GroupOp
from shared.ids import is_group_id, is_user_id

if TYPE_CHECKING:
    from interzap_client.conversations import Conversation
    from interzap_client.state import State

SILENT = frozenset({GroupOp.NAMED, GroupOp.ADMIN})
"""24 ops that say how a group stands (to a member just added): applied, not shown."""


@dataclass(frozen=True, slots=True)
class Note:
    """A group change shown as a line of its chat, after the first `index` messages."""

    ts: int
    actor: str
    op: str
    arg: str
    index: int


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A 23 we sent that no 24 answered yet; (group, ts) is its key (with us as actor)."""

    group: str
    ts: int
    op: str
    arg: str


@dataclass(frozen=True, slots=True)
class WantedName:
    """Our 21 that no 22 answered yet."""

    name: str


@dataclass(slots=True)
class People:
    """Names, group names and admins, group changes, and our unanswered 21 and 23s."""

    names: dict[str, str] = field(default_factory=dict)  # user id -> display name (22)
    wanted: str | None = None  # our 21 awaiting its 22
    titles: dict[str, str] = field(default_factory=dict)  # group id -> its name
    admins: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group -> admins
    notes: dict[str, list[Note]] = field(default_factory=dict)  # group -> its change lines
    changes: dict[tuple[str, int], PendingChange] = field(default_factory=dict)

    def label(self, ident: str) -> str | None:
        """A user's display name, told apart from another contact's same name by the end
        of the id ("Bob (…0003)"); a group's name; None if it has none."""
        if is_group_id(ident):
            return self.titles.get(ident)
        name = self.names.get(ident)
        if name is None:
            return None
        if sum(1 for other in self.names.values() if other == name) > 1:
            return f"{name} (…{ident[-4:]})"
        return name

    def named_as(self, name: str) -> list[str]:
        """The users whose display name (or label) is `name`, by id."""
        return sorted(ident for ident, own in self.names.items()
                      if name in (own, self.label(ident)))


def apply_event(state: State, group: str, ts: int, actor: str, op: str, arg: str) -> bool:
    """A 24: the group changes; a visible change becomes a line, once (a repeat is none)."""
    people = state.people
    kind = GroupOp(op)
    conv = state.conversation(group)
    lines = people.notes.setdefault(group, [])
    if kind not in SILENT and any((n.ts, n.actor, n.op, n.arg) == (ts, actor, op, arg)
                                  for n in lines):
        return False
    if actor == state.me:
        people.changes.pop((group, ts), None)
    _CHANGES[kind](state, conv, actor, arg)
    if kind not in SILENT:
        lines.append(Note(ts, actor, op, arg, len(conv.messages)))
    return True


def _rename(state: State, conv: Conversation, actor: str, arg: str) -> None:
    state.people.titles[conv.peer] = arg


def _add(state: State, conv: Conversation, actor: str, arg: str) -> None:
    if arg not in conv.members:
        conv.members = (*conv.members, arg)
    if arg != state.me and arg not in state.contacts:
        state.contacts.append(arg)


def _without(state: State, conv: Conversation, user: str) -> None:
    conv.members = tuple(m for m in conv.members if m != user)
    _admin(state, conv, user, False)


def admins_of(state: State, group: str) -> tuple[str, ...]:
    """A group's admins: as 24s said, else its creator (the first of its 11)."""
    known = state.people.admins.get(group)
    if known is not None:
        return known
    members = state.conversation(group).members
    return members[:1]


def _admin(state: State, conv: Conversation, user: str, admin: bool) -> None:
    admins = admins_of(state, conv.peer)
    kept = tuple(a for a in admins if a != user)
    state.people.admins[conv.peer] = (*kept, user) if admin else kept


def _listed_admin(state: State, conv: Conversation, user: str) -> None:
    """An `a` 24 (we were just added): the admins are those listed, from none."""
    admins = state.people.admins.get(conv.peer, ())
    state.people.admins[conv.peer] = (*(a for a in admins if a != user), user)


_CHANGES: dict[GroupOp, Callable[[State, Conversation, str, str], None]] = {
    GroupOp.RENAME: _rename,
    GroupOp.NAMED: _rename,
    GroupOp.ADD: _add,
    GroupOp.REMOVE: lambda state, conv, actor, arg: _without(state, conv, arg),
    GroupOp.LEAVE: lambda state, conv, actor, arg: _without(state, conv, actor),
    GroupOp.PROMOTE: lambda state, conv, actor, arg: _admin(state, conv, arg, True),
    GroupOp.ADMIN: lambda state, conv, actor, arg: _listed_admin(state, conv, arg),
    GroupOp.DEMOTE: lambda state, conv, actor, arg: _admin(state, conv, arg, False),
}


def person(state: State, ident: str) -> str:
    """An id as a person reads it: "you", else its label (alias, name, id)."""
    return "you" if ident == state.me else state.label(ident)


def words(state: State, note: Note) -> str:
    """A group change for a person: "bob added dave", "carol left"."""
    actor, arg = person(state, note.actor), note.arg
    target = person(state, arg) if is_user_id(arg) else arg
    return {
        GroupOp.RENAME: f"{actor} renamed the group to {arg}",
        GroupOp.ADD: f"{actor} added {target}",
        GroupOp.REMOVE: f"{actor} removed {target}",
        GroupOp.PROMOTE: (f"{target} {'are' if arg == state.me else 'is'} now an admin"),
        GroupOp.DEMOTE: f"{actor} made {target} no longer an admin",
        GroupOp.LEAVE: f"{actor} left",
    }.get(GroupOp(note.op), f"{actor} changed the group")


def is_member(state: State, group: str) -> bool:
    """Whether we are in `group` as far as we know (a group not yet known: yes)."""
    conv = state.conversations.get(group)
    return conv is None or not conv.members or state.me in conv.members
