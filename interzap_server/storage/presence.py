"""Presence: who is online, when each user was last seen, who hides it, and who shares a
chat with whom (PROTOCOL.md 5.14).

Part of the store (Store.presence). A user's row of `presence` is written when
they log in and when their connection ends, never by a message, so it adds
nothing to the path of a 1:1 message. Whether two users share a chat is read
from what the database keeps anyway: a group they are both in, a message key
either way (kept 7 days), or a read mark either way (kept for good).

Knows ids, the presence, member, message_key and read_mark tables; knows no
chat rules.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from peewee import Select

from interzap_server.storage.models import Member, MessageKey, ReadMark, Seen
from interzap_server.storage.numbers import user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import is_user_id, user_id


@dataclass(frozen=True, slots=True)
class Presence:
    """One user's row: online now, the time of their last login or logout, hidden."""

    online: bool
    seen: int
    hidden: bool


class PresenceTable:
    """Presence as plain ids."""

    def __init__(self, runner: Runner, sql: Statements) -> None:
        self._runner = runner
        self._sql = sql  # the statements of every login and departure (statements.py)

    def arrived(self, user: str, now: int) -> None:
        """`user` logged in at `now`."""
        self._upsert(user, online=True, seen=now)

    def left(self, user: str, now: int) -> None:
        """`user`'s connection ended at `now`: last seen then."""
        self._upsert(user, online=False, seen=now)

    def hide(self, user: str, hidden: bool, now: int) -> None:
        """`user` hides (or shares again) their presence; the rest of the row stays."""
        self._runner.execute(Seen
                             .insert(user=user_number(user), online=False, seen=now,
                                     hidden=hidden)
                             .on_conflict(conflict_target=[Seen.user],
                                          update={Seen.hidden: hidden}))

    def _upsert(self, user: str, online: bool, seen: int) -> None:
        self._runner.run(self._sql.presence_upsert, user_number(user), online, seen, False)

    def of(self, user: str) -> Presence | None:
        """`user`'s row, or None if they have not logged in since presence was kept."""
        rows = self._runner.rows(self._sql.presence_of, user_number(user))
        if not rows:
            return None
        online, seen, hidden = rows[0]
        return Presence(bool(online), int(seen), bool(hidden))

    def hiding(self, users: Iterable[str]) -> set[str]:
        """Those of `users` who hide their presence."""
        numbers = [user_number(user) for user in users]
        if not numbers:
            return set()
        rows = self._runner.query(Seen.select(Seen.user)
                                  .where(Seen.user.in_(numbers) & (Seen.hidden == True)))  # noqa: E712
        return {user_id(number) for (number,) in rows}

    def contacts(self, user: str) -> set[str]:
        """Everyone who shares a chat with `user`: a group, a message to them (kept 7
        days), a read mark either way. Off the message path: at login and logout."""
        me = user_number(user)
        found = {user_id(n) for (n,) in self._runner.rows(self._sql.sharing, me, me, me)}
        marks = self._runner.rows(self._sql.marks_between, user, user)
        found |= {peer for author, dst in marks
                  for peer in (author, dst) if peer != user and is_user_id(peer)}
        found.discard(user)
        return found

    def share_chat(self, one: str, other: str) -> bool:
        """Whether `one` and `other` share a chat, each test by a primary key or index."""
        a, b = user_number(one), user_number(other)
        theirs = Member.select(Member.group).where(Member.user == b)
        tests: tuple[Select, ...] = (
            Member.select(Member.group).where((Member.user == a) & Member.group.in_(theirs)),
            MessageKey.select(MessageKey.ts).where((MessageKey.dst == a) & (MessageKey.src == b)),
            MessageKey.select(MessageKey.ts).where((MessageKey.dst == b) & (MessageKey.src == a)),
            ReadMark.select(ReadMark.ts).where((ReadMark.dst == one) & (ReadMark.author == other)),
            ReadMark.select(ReadMark.ts).where((ReadMark.dst == other) & (ReadMark.author == one)),
        )
        return any(self._runner.query(test.limit(1)) for test in tests)

    def all_offline(self) -> None:
        """At the start of the only server on a database: nobody is online any more (a
        server killed left its users' rows online); their last seen stays their login."""
        self._runner.execute(Seen.update(online=False).where(Seen.online == True))  # noqa: E712
