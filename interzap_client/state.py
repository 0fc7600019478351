"""The client's picture of its chats: every conversation, contact, alias and act by key.

Pure data and the rules that change it (one chat's data is conversations.py's).
Every change goes through one of the mutation methods below, which return
whether anything changed; history.py journals exactly those calls and replays
them at start-up, so a state rebuilt from disk equals the state that was
saved. Refuses to know about sockets, files, clocks (the time is always a
parameter) and the user interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from interzap_client import message_acts
from interzap_client.conversations import Conversation, Key, Message, PendingGroup, Tick
from interzap_client.message_acts import Act
from interzap_client.people import Note, PendingChange, People, WantedName, apply_event
from shared.codes import ActKind
from shared.ids import is_group_id, is_user_id


@dataclass(slots=True)
class State:
    """Everything one account knows; `me` is its user id.

    Compared field by field (==): a state rebuilt from the journal must equal
    the one that wrote it, whatever a snapshot might forget.
    """

    me: str
    aliases: dict[str, str] = field(default_factory=dict)  # id -> local alias
    contacts: list[str] = field(default_factory=list)  # user ids, in the order we met them
    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: dict[Key, Message] = field(default_factory=dict)  # every one, in arrival order
    pending_groups: dict[int, PendingGroup] = field(default_factory=dict)
    last_create_ts: int = 0
    blocked: list[str] = field(default_factory=list)  # whom we block, as the last 19 said
    acts: dict[Key, Act] = field(default_factory=dict)  # every edit, deletion, reaction
    # acts whose message we do not have (yet): applied if it comes
    orphans: dict[Key, list[Act]] = field(default_factory=dict)
    erased: int = 0  # deletions applied: history.py compacts the journal after each one
    people: People = field(default_factory=People)  # names, group admin (people.py)

    # ---- lookups ----------------------------------------------------------

    def conversation(self, peer: str) -> Conversation:
        """The conversation with `peer`, created empty on first use."""
        conv = self.conversations.get(peer)
        if conv is None:
            conv = self.conversations[peer] = Conversation(peer)
            if is_user_id(peer) and peer != self.me and peer not in self.contacts:
                self.contacts.append(peer)
        return conv

    def peer_of(self, src: str, dst: str) -> str:
        """The conversation a message belongs to: the group, else the other user."""
        if is_group_id(dst):
            return dst
        return dst if src == self.me else src

    def resolve(self, name: str) -> str | None:
        """The id that `name` (an id, an alias, or one user's display name) stands for."""
        if is_user_id(name) or is_group_id(name):
            return name
        for ident, alias in self.aliases.items():
            if alias == name:
                return ident
        named = self.people.named_as(name)
        return named[0] if len(named) == 1 else None

    def label(self, ident: str) -> str:
        """How to show an id to a person: its alias, else its name (people.py), else itself."""
        return self.aliases.get(ident) or self.people.label(ident) or ident

    def sorted_conversations(self) -> list[Conversation]:
        """Most recent first; ties broken by id so the order is stable."""
        return sorted(self.conversations.values(), key=lambda c: (-c.last_time, c.peer))

    def outbox(self) -> Iterator[Message | PendingGroup | PendingChange | WantedName | Act]:
        """What still waits for the server's answer, in the order it was made (acts after
        messages: an act may refer to a message still waiting, never the other way)."""
        yield from self.pending_groups.values()
        yield from self.people.changes.values()
        if self.people.wanted is not None:
            yield WantedName(self.people.wanted)
        yield from (m for m in self.messages.values() if m.tick is Tick.PENDING)
        yield from (a for a in self.acts.values() if a.tick is Tick.PENDING)

    def original(self, src: str, dst: str, ref_src: str, ref_ts: int) -> Message | None:
        """The message an act or reply (src, dst) about (ref_src, ref_ts) refers to, if we
        have it: the whole history is in memory, replayed from disk."""
        return self.messages.get(message_acts.original_key(src, dst, ref_src, ref_ts))

    def shown_tick(self, message: Message) -> Tick | None:
        """An own message's ticks; once edited, its newest edit's (they start again)."""
        if message.edited and message.own:
            edit = self.acts.get((message.src, message.dst, message.edited))
            if edit is not None:
                return edit.tick
        return message.tick

    def next_ts(self, peer: str, now: int) -> int:
        """The ts for a new message to `peer`: max(now, last used + 1), never a reused key.

        It cannot stay closer to now: a ts is also the order of one (src, dst) pair
        (08 marks "up to ts" read, and a 09 comes only when its ts grows), so it must
        grow, one second per message. A burst of N runs N seconds ahead, and the lead
        wears off only as the clock catches up: Message.shown_at is what to show.
        """
        return max(now, self.conversation(peer).last_own_ts + 1)

    def next_create_ts(self, now: int) -> int:
        return max(now, self.last_create_ts + 1)

    # ---- mutations (each one is a journal record type, see history.py) ---

    def msg(self, src: str, dst: str, ts: int, text: str, tick: int | None = None,
            at: int | None = None, reply: list[str | int] | None = None) -> bool:
        """A message sent (tick given) or received (at: our clock then); False if known.
        `reply`: the [author, ts] of the message it answers."""
        key = (src, dst, ts)
        if key in self.messages:
            return False
        message = Message(src, dst, ts, text, None if tick is None else Tick(tick), at,
                          None if reply is None else (str(reply[0]), int(reply[1])))
        self.messages[key] = message
        for act in self.orphans.pop(key, []):
            self._change(message, act)
        conv = self.conversation(self.peer_of(src, dst))
        conv.messages.append(message)
        if message.own:
            conv.last_own_ts = max(conv.last_own_ts, ts)
        elif ts <= conv.seen:
            conv.late.add(key)
        return True

    def act(self, src: str, dst: str, ts: int, kind: str, ref_src: str, ref_ts: int, text: str,
            tick: int | None = None, at: int | None = None) -> bool:
        """An edit, deletion or reaction (kind E, D, X) sent (tick given) or received;
        False if its key is known (a 32 delivered again). It changes its message once the
        server accepted it (an own one waits for its 16: a refused one never applies), and
        if we have the message; else it is kept until the message comes."""
        key = (src, dst, ts)
        if key in self.acts or kind == ActKind.REPLY:
            return False
        act = Act(src, dst, ts, kind, ref_src, ref_ts, text,
                  None if tick is None else Tick(tick), at)
        self.acts[key] = act
        conv = self.conversation(self.peer_of(src, dst))
        conv.acts.append(act)
        if act.own:
            conv.last_own_ts = max(conv.last_own_ts, ts)
        if act.tick is None or act.tick >= Tick.ACCEPTED:
            self._apply(act, conv)
        return True

    def _apply(self, act: Act, conv: Conversation) -> None:
        target = message_acts.original_key(act.src, act.dst, act.ref_src, act.ref_ts)
        message = self.messages.get(target)
        if message is None:
            self.orphans.setdefault(target, []).append(act)
        elif message.deleted and act.kind == ActKind.EDIT:
            act.text = ""  # too late to show: nor is it kept for a snapshot
        elif self._change(message, act) and act.kind == ActKind.DELETE:
            for edit in conv.acts:  # no word of it stays, in memory or in a snapshot
                if edit.kind == ActKind.EDIT and edit.key != act.key and (
                        edit.ref_src, edit.ref_ts) == (act.ref_src, act.ref_ts):
                    edit.text = ""

    def _change(self, message: Message, act: Act) -> bool:
        changed = message_acts.apply(message, act)
        if changed and act.kind == ActKind.DELETE:
            self.erased += 1
        return changed

    def tick(self, dst: str, ts: int, tick: int) -> bool:
        """Raise one own message or act to `tick` (16, 07, or a refusal); never lowers it."""
        message: Message | Act | None = self.messages.get((self.me, dst, ts))
        if message is None:
            message = self.acts.get((self.me, dst, ts))
        if message is None or message.tick is None:
            return False
        new = Tick(tick)
        if new is Tick.FAILED:
            if message.tick is not Tick.PENDING:
                return False  # accepted already: a late refusal cannot be about it
        elif message.tick is Tick.FAILED or message.tick >= new:
            return False
        if isinstance(message, Act) and message.tick is Tick.PENDING:
            message.tick = new
            if new is not Tick.FAILED:  # accepted: it takes effect now
                self._apply(message, self.conversation(dst))
            return True
        message.tick = new
        return True

    def read(self, peer: str, ts: int) -> bool:
        """09: every own message to `peer` up to ts is read (for 1:1 and for groups)."""
        changed = False
        conv = self.conversation(peer)
        for message in conv.messages:
            if message.own and message.ts <= ts and message.tick not in (Tick.FAILED,
                                                                          Tick.READ):
                message.tick = Tick.READ
                changed = True
        for act in conv.acts:  # through tick(): a pending act takes effect on its way
            if act.own and act.ts <= ts and act.tick not in (Tick.FAILED, Tick.READ):
                changed = self.tick(act.dst, act.ts, Tick.READ) or changed
        return changed

    def seen(self, peer: str, ts: int) -> bool:
        """We sent 08 for `peer` up to ts."""
        conv = self.conversation(peer)
        covered = {key for key in conv.late if key[2] <= ts}
        if ts <= conv.seen and not covered:
            return False
        conv.seen = max(conv.seen, ts)
        conv.late -= covered
        return True

    def late(self, peer: str, keys: list[list[str | int]]) -> bool:
        """Received messages of `peer` still unread though older than its read mark."""
        conv = self.conversation(peer)
        before = len(conv.late)
        conv.late.update((str(src), str(dst), int(ts)) for src, dst, ts in keys)
        return len(conv.late) != before

    def group(self, group: str, ts: int, members: list[str] | tuple[str, ...]) -> bool:
        """11: a group we are in (creator first); answers our own pending 10."""
        members = tuple(members)
        known = self.conversations.get(group)
        changed = known is None or known.members != members
        if known is None or self.me not in known.members:  # new to us: admins as 24s say
            self.people.admins.pop(group, None)
        conv = self.conversation(group)
        conv.members, conv.created = members, max(conv.created, ts)
        if members and members[0] == self.me and ts in self.pending_groups:
            name = self.pending_groups.pop(ts).name  # the answer to our own 10
            if name is not None:  # its name goes next, keyed by the 10's ts (PROTOCOL.md 23)
                self.people.changes[group, ts] = PendingChange(group, ts, "N", name)
            changed = True
        for member in members:
            if member != self.me and member not in self.contacts:
                self.contacts.append(member)
        return changed

    def create(self, ts: int, members: list[str] | tuple[str, ...],
               name: str | None = None) -> bool:
        """We asked for a group (10), to be named `name`; it waits in the outbox until its 11."""
        self.last_create_ts = max(self.last_create_ts, ts)
        if ts in self.pending_groups:
            return False
        self.pending_groups[ts] = PendingGroup(ts, tuple(members), name)
        return True

    def drop_create(self, ts: int) -> bool:
        """The server refused our 10 with this ts."""
        return self.pending_groups.pop(ts, None) is not None

    def alias(self, ident: str, alias: str | None = None) -> bool:
        """/add: a contact, with an optional local alias (unique: it moves if reused)."""
        changed = False
        if is_user_id(ident) and ident != self.me and ident not in self.contacts:
            self.contacts.append(ident)
            changed = True
        if alias is not None and self.aliases.get(ident) != alias:
            for other in [i for i, a in self.aliases.items() if a == alias]:
                del self.aliases[other]
            self.aliases[ident] = alias
            changed = True
        return changed

    def blocks(self, users: list[str] | tuple[str, ...]) -> bool:
        """A 19: everyone we block now (the server's whole list, not a change)."""
        if self.blocked == list(users):
            return False
        self.blocked = list(users)
        return True

    def stamp(self, ts: int) -> bool:
        """Remember the newest ts used for a 10, so a group key is never reused."""
        if ts <= self.last_create_ts:
            return False
        self.last_create_ts = ts
        return True

    # ---- names and group admin (people.py) ---------------------------------

    def named(self, user: str, name: str) -> bool:
        """A 22: `user` is called `name` (us: our 21 is answered)."""
        people = self.people
        changed = people.names.get(user) != name
        people.names[user] = name
        if user == self.me and people.wanted == name:
            people.wanted, changed = None, True
        return changed

    def want_name(self, name: str | None) -> bool:
        """We sent a 21 (None: it was refused)."""
        if self.people.wanted == name:
            return False
        self.people.wanted = name
        return True

    def change(self, group: str, ts: int, op: str, arg: str) -> bool:
        """We sent a 23; it waits in the outbox until its 24."""
        self.last_create_ts = max(self.last_create_ts, ts)
        if (group, ts) in self.people.changes:
            return False
        self.people.changes[group, ts] = PendingChange(group, ts, op, arg)
        return True

    def drop_change(self, group: str, ts: int) -> bool:
        """The server refused our 23 with this key."""
        return self.people.changes.pop((group, ts), None) is not None

    def group_event(self, group: str, ts: int, actor: str, op: str, arg: str) -> bool:
        """A 24: a change of `group` (people.apply_event)."""
        return apply_event(self, group, ts, actor, op, arg)

    def group_info(self, group: str, title: str | None, admins: list[str] | None) -> bool:
        """A snapshot's group name and admins (None: as its 11 says; history.py)."""
        if title is not None:
            self.people.titles[group] = title
        if admins is not None:
            self.people.admins[group] = tuple(admins)
        return True

    def notes(self, group: str, lines: list[list[str | int]]) -> bool:
        """A snapshot's group change lines: [ts, actor, op, arg, index] each (history.py)."""
        self.people.notes[group] = [Note(int(ts), str(actor), str(op), str(arg), int(index))
                                    for ts, actor, op, arg, index in lines]
        return True
