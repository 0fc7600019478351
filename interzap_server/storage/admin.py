"""The operator's queries (interzap-admin): users, invites, tokens, disabling, deleting,
groups and the figures of the queues, on a database a server may be using right now.

Each change is one short transaction of its own that also writes a row of
`account_change` for running servers to act on (accounts.py); on PostgreSQL it
first locks that table, so that rows commit in the order of their ids. SQLite
(in WAL mode) and PostgreSQL both let this process write while the server
runs: the server's transactions are short, and a write here waits for them.

Deleting an account (delete()) is refused unless it is disabled first (the
server has then closed its session and refuses messages to it) and unless it
is in no group (a running server remembers each group's members; an admin of the
group removes them with a 23 first: PROTOCOL.md 5.10). What it does:
its queue and queue head are deleted, its blocks (both ways), its read marks
and its contacts (PROTOCOL.md 5.9) too; the account row stays, disabled,
without a token and without a name, so that its
number is never given to anyone else (SQLite would reuse the highest). Message
keys it sent stay until they are forgotten (KEY_MEMORY); copies of its
messages already queued for others are still delivered.

Knows the tables and the runner; knows no chat rules, no frames and no output
format (interzap_server/admin/ prints).
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from peewee import JOIN, fn

from interzap_server.storage.accounts import DELETE, DISABLE, RESET
from interzap_server.storage.models import (
    AccountChange,
    Block,
    Contact,
    Entry,
    Group,
    Invite,
    Member,
    QueueHead,
    ReadMark,
    User,
)
from interzap_server.storage.runner import Runner
from shared.codes import INVITE_ALPHABET, INVITE_WIDTH
from shared.ids import group_id, is_user_id, number_of, user_id

ENABLE = "enable"
"""A change row no server acts on (a login is checked anyway); kept as the record."""
LARGEST = 5
"""Queues `stats` names."""
LOCK_WAIT = 5
"""Seconds a change may wait for the server's locks (PostgreSQL; SQLite: BUSY_TIMEOUT)."""


class AdminError(Exception):
    """What the operator asked cannot be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    name: str | None  # the display name (21), if set
    created: int
    last_login: int | None
    queued: int
    state: str  # "active", "disabled" or "deleted"


@dataclass(frozen=True, slots=True)
class InviteRow:
    code: str
    created: int
    expires: int
    used: int | None
    user: str | None


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: str
    name: str | None  # set by a 23 rename, if ever
    creator: str  # who made it (maybe no longer a member)
    created: int
    members: tuple[str, ...]  # the oldest member first


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The frames owed to users, in total and in the longest queues."""

    queued: int
    largest: tuple[tuple[str, int], ...]  # (user, frames), longest first


@dataclass(frozen=True, slots=True)
class Stats:
    users: int
    disabled: int
    groups: int
    queues: QueueStats


def new_invite_code() -> str:
    """INVITE_WIDTH characters of INVITE_ALPHABET, from the system's random source."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_WIDTH))


def queue_stats(runner: Runner, largest: int) -> QueueStats:
    """Frames queued, and the `largest` longest queues: one scan of the queue's primary
    key (the server's metrics page reads it at most every few seconds: metrics.py)."""
    rows = runner.query(Entry
                        .select(Entry.user, fn.COUNT(Entry.seq).alias("n"))
                        .group_by(Entry.user)
                        .order_by(fn.COUNT(Entry.seq).desc(), Entry.user)
                        .limit(largest))
    total = runner.query(Entry.select(fn.COUNT(Entry.seq)))
    return QueueStats(int(total[0][0]),
                      tuple((user_id(int(user)), int(count)) for user, count in rows))


class Admin:
    """The operator's queries and changes, each change its own transaction."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._postgres = runner.savepoints  # savepoints are PostgreSQL's (runner.py)

    def close(self) -> None:
        self._runner.close()

    # -- reading -----------------------------------------------------------------------

    def users(self) -> list[UserRow]:
        queued = (Entry
                  .select(Entry.user, fn.COUNT(Entry.seq).alias("n"))
                  .group_by(Entry.user)
                  .alias("q"))
        rows = self._runner.query(User
                                  .select(User.id, User.name, User.created, User.last_login,
                                          fn.COALESCE(queued.c.n, 0), User.disabled,
                                          User.token_hash)
                                  .join(queued, JOIN.LEFT_OUTER,
                                        on=(queued.c.user == User.id))
                                  .order_by(User.id))
        return [UserRow(user_id(int(ident)), name, int(created), last, int(count),
                        _state(disabled, token_hash))
                for ident, name, created, last, count, disabled, token_hash in rows]

    def queue(self, user: str) -> list[tuple[int, str]]:
        """The frames owed to `user`, oldest first: (seq, frame code). Only the code: what
        people wrote is none of the listing's business."""
        self._account(user, deleted_ok=True)
        rows = self._runner.query(Entry
                                  .select(Entry.seq, Entry.frame)
                                  .where(Entry.user == number_of(user))
                                  .order_by(Entry.seq))
        return [(int(seq), str(frame)[:2]) for seq, frame in rows]

    def invites(self) -> list[InviteRow]:
        rows = self._runner.query(Invite
                                  .select(Invite.code, Invite.created, Invite.expires,
                                          Invite.used, Invite.user)
                                  .order_by(Invite.created, Invite.code))
        return [InviteRow(code, int(created), int(expires), used,
                          None if user is None else user_id(int(user)))
                for code, created, expires, used, user in rows]

    def groups(self) -> list[GroupRow]:
        rows = self._runner.query(Member
                                  .select(Member.group, Member.user, Group.name, Group.creator,
                                          Group.created)
                                  .join(Group, on=(Member.group == Group.id))
                                  .order_by(Member.group, Member.position))
        groups: dict[int, tuple[GroupRow, list[str]]] = {}
        for group, user, name, creator, created in rows:
            number = int(group)
            if number not in groups:
                groups[number] = (GroupRow(group_id(number), name, user_id(int(creator)),
                                           int(created), ()), [])
            groups[number][1].append(user_id(int(user)))
        return [replace(row, members=tuple(members)) for row, members in groups.values()]

    def stats(self) -> Stats:
        (users, disabled), = self._runner.query(
            User.select(fn.COUNT(User.id), fn.COUNT(User.disabled)))
        (groups,), = self._runner.query(Group.select(fn.COUNT(Group.id)))
        return Stats(int(users), int(disabled), int(groups), queue_stats(self._runner, LARGEST))

    # -- changing ----------------------------------------------------------------------

    def make_invites(self, count: int, expires: int, now: int) -> list[str]:
        """`count` new invite codes, valid until `expires`."""
        codes = [new_invite_code() for _ in range(count)]
        with self._change():
            self._runner.execute(Invite.insert_many(
                [(code, now, expires) for code in codes],
                fields=[Invite.code, Invite.created, Invite.expires]))
        return codes

    def reset_token(self, user: str, token_hash: str, now: int) -> None:
        """Give `user` a new token (its hash); the old one stops working at once, and a
        running server closes the session it opened."""
        with self._change():
            self._account(user)
            self._runner.execute(User.update(token_hash=token_hash)
                                 .where(User.id == number_of(user)))
            self._record(user, RESET, now)

    def disable(self, user: str, now: int) -> bool:
        """Disable `user`; False if it already was."""
        with self._change():
            disabled, _ = self._account(user)
            if disabled is not None:
                return False
            self._runner.execute(User.update(disabled=now).where(User.id == number_of(user)))
            self._record(user, DISABLE, now)
        return True

    def enable(self, user: str, now: int) -> bool:
        """Enable `user` again; False if it was not disabled."""
        with self._change():
            disabled, _ = self._account(user)
            if disabled is None:
                return False
            self._runner.execute(User.update(disabled=None).where(User.id == number_of(user)))
            self._record(user, ENABLE, now)
        return True

    def delete(self, user: str, now: int) -> int:
        """Delete `user` (the module's docstring says what that does); returns the frames
        its queue held. AdminError if it is not disabled, or is in a group."""
        number = number_of(user)
        with self._change():
            disabled, _ = self._account(user)
            if disabled is None:
                raise AdminError(f"{user} is not disabled: disable it first (interzap-admin "
                                 f"disable {user}), so that the server closes its session")
            groups = self._runner.query(Member.select(Member.group)
                                        .where(Member.user == number).order_by(Member.group))
            if groups:
                names = ", ".join(group_id(int(group)) for (group,) in groups)
                raise AdminError(f"{user} is a member of {names}: an admin of each group "
                                 "must remove them first (/remove); until then it stays "
                                 "disabled")
            queued = self._runner.execute(Entry.delete().where(Entry.user == number))
            self._runner.execute(QueueHead.delete().where(QueueHead.user == number))
            self._runner.execute(Block.delete().where((Block.blocker == number)
                                                      | (Block.blocked == number)))
            self._runner.execute(ReadMark.delete().where((ReadMark.reader == user)
                                                         | (ReadMark.author == user)))
            self._runner.execute(Contact.delete().where((Contact.low == number)
                                                        | (Contact.high == number)))
            self._runner.execute(User.update(token_hash="", name=None)
                                 .where(User.id == number))
            self._record(user, DELETE, now)
        return queued

    # -- the transaction ---------------------------------------------------------------

    @contextmanager
    def _change(self) -> Iterator[None]:
        """One change's transaction: on PostgreSQL, account_change locked first, so that
        change rows commit in the order of their ids (accounts.py), waiting up to
        LOCK_WAIT for the server's transactions; committed at the end, rolled back if
        anything fails."""
        runner = self._runner
        runner.begin()
        try:
            if self._postgres:
                runner.run(f"SET LOCAL lock_timeout = '{LOCK_WAIT}s'")
                table = AccountChange._meta.table_name.join(runner.db.quote)
                runner.run(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            yield
        except BaseException:
            runner.rollback()
            raise
        runner.commit()

    def _account(self, user: str, deleted_ok: bool = False) -> tuple[int | None, str]:
        """(disabled, token hash) of `user`; AdminError if there is no such account (or it
        was deleted, unless `deleted_ok`)."""
        if not is_user_id(user):
            raise AdminError(f"{user!r} is not a user id like Client-000001")
        rows = self._runner.query(User.select(User.disabled, User.token_hash)
                                  .where(User.id == number_of(user)))
        if not rows:
            raise AdminError(f"there is no user {user}")
        disabled, token_hash = rows[0]
        if not token_hash and not deleted_ok:
            raise AdminError(f"{user} was deleted")
        return disabled, token_hash

    def _record(self, user: str, kind: str, now: int) -> None:
        self._runner.execute(AccountChange.insert(user=number_of(user), kind=kind, at=now))


def _state(disabled: int | None, token_hash: str) -> str:
    if not token_hash:
        return "deleted"
    return "active" if disabled is None else "disabled"
