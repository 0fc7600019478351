"""Display names and contacts: who is called what, and who is told (PROTOCOL.md 5.9).

Part of the store (Store.names). A name is a column of `user`; a contact is a
row of `contact`, written at a pair's first 1:1 message. The check every 1:1
message makes (meet) is answered from caches.py once the pair is known, so an
ordinary message costs no statement; the first message of a pair since this
process started costs one INSERT.

Knows ids, the user, member and contact tables and the caches; knows no chat rules.
"""

from collections.abc import Iterable

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.models import Contact, Member, User
from interzap_server.storage.numbers import user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import user_id


class Names:
    """Display names and contacts as plain ids."""

    def __init__(self, runner: Runner, caches: LocalCaches, sql: Statements) -> None:
        self._runner = runner
        self._caches = caches
        self._sql = sql

    def name_of(self, user: str) -> str | None:
        """The user's display name, None if they never set one."""
        row = self._runner.query(User.select(User.name).where(User.id == user_number(user)))
        return row[0][0] if row else None

    def set_name(self, user: str, name: str) -> bool:
        """Give `user` the display name `name`; False if it was theirs already."""
        return bool(self._runner.execute(
            User.update(name=name).where((User.id == user_number(user))
                                         & ((User.name.is_null()) | (User.name != name)))))

    def names_of(self, users: Iterable[str]) -> dict[str, str]:
        """The display names of those of `users` who have one."""
        numbers = [user_number(user) for user in users]
        rows = self._runner.query(User.select(User.id, User.name)
                                  .where(User.id.in_(numbers) & User.name.is_null(False)))
        return {user_id(number): name for number, name in rows}

    def meet(self, one: str, other: str) -> bool:
        """Two users exchange a 1:1 message: True if they never had (the row is new)."""
        pair = (one, other) if one < other else (other, one)  # ids of one width: as numbers
        if self._caches.met(pair):
            return False
        new = self._runner.run(self._sql.add_contact, user_number(pair[0]),
                               user_number(pair[1])).rowcount
        self._caches.meeting(pair)
        return bool(new)

    def contacts_of(self, user: str) -> list[str]:
        """Everyone who shares a chat with `user`: a 1:1 contact, or a member of one of
        their groups; by number, `user` left out."""
        number = user_number(user)
        groups = Member.select(Member.group).where(Member.user == number)
        rows = self._runner.query(
            Contact.select(Contact.high.alias("other")).where(Contact.low == number)
            | Contact.select(Contact.low).where(Contact.high == number)
            | Member.select(Member.user).where(Member.group.in_(groups) & (Member.user != number)))
        return [user_id(other) for other in sorted({int(other) for (other,) in rows})]
