"""Accounts as the running server sees them: credentials, invites, and the operator's changes.

Part of the store (Store.accounts). The login of a disabled account is refused
by the same statement that reads its token's hash; a 20 claims its invite with
one UPDATE that only an unused, unexpired code passes, in the transaction of
the new account; and what the operator did to accounts while the server runs
(interzap-admin: disable, reset a token, delete) reaches the server as rows of
`account_change`, which it reads past the last id it saw (`changes()`).

Theory of operation (the operator's changes). The admin command writes its
change and the row in one transaction, taking a lock on `account_change` first
on PostgreSQL (admin.py), so rows commit in the order of their ids and a
reader that saw id n never later meets a smaller one. The server polls once a
second (loop.py): one primary-key range read that finds nothing almost always.
A PostgreSQL LISTEN/NOTIFY channel (wakeups.py, for a cluster) can replace the
poll without changing this: the admin's NOTIFY then says "look", and the
server runs the same read on being told instead of every second.

Knows ids, the user, invite and account_change tables and the caches; knows
no chat rules.
"""

from dataclasses import dataclass

from interzap_server.storage.caches import LocalCaches
from interzap_server.storage.models import Invite, User
from interzap_server.storage.numbers import user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import user_id

DISABLE, RESET, DELETE = "disable", "reset", "delete"
"""The kinds of account_change a running server acts on (enabling needs nothing)."""


@dataclass(frozen=True, slots=True)
class Change:
    """The operator changed `user`'s account: DISABLE, RESET or DELETE."""

    id: int
    user: str
    kind: str
    at: int  # when, by the admin's clock (Unix seconds)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a 03 is checked against."""

    token_hash: str
    disabled: bool


class Accounts:
    """The running server's questions about accounts."""

    def __init__(self, runner: Runner, caches: LocalCaches, sql: Statements) -> None:
        self._runner = runner
        self._caches = caches
        self._sql = sql
        self._logins: dict[int, int] = {}  # user number: last login, not yet written

    def credentials(self, user: str) -> Credentials | None:
        """The account's token hash and whether it is disabled; None if there is none."""
        row = self._runner.one(self._sql.token_hash, user_number(user))
        return None if row is None else Credentials(str(row[0]), row[1] is not None)

    def logged_in(self, user: str, now: int) -> None:
        """Remember when `user` last logged in (interzap-admin users): written later, by
        write_logins(), so that a login asks nothing more of the database than its check
        (logins are served while another process holds the database's write lock)."""
        self._logins[user_number(user)] = now

    def write_logins(self) -> None:
        """Write the last logins remembered since the last call (once a second: loop.py);
        those of a transaction that does not commit are lost (it is bookkeeping)."""
        logins, self._logins = self._logins, {}
        for number, when in logins.items():
            self._runner.execute(User.update(last_login=when).where(User.id == number))

    # -- invites ---------------------------------------------------------------------

    def claim_invite(self, code: str, now: int) -> str | None:
        """Take the invite `code` for an account of this transaction: None if it was free;
        else why not ("unknown", "used" or "expired"), and nothing was written."""
        claimed = self._runner.execute(Invite
                                       .update(used=now)
                                       .where((Invite.code == code) & Invite.used.is_null()
                                              & (Invite.expires > now)))
        if claimed:
            return None
        rows = self._runner.query(Invite
                                  .select(Invite.used)
                                  .where(Invite.code == code))
        if not rows:
            return "unknown"
        return "used" if rows[0][0] is not None else "expired"

    def invited(self, code: str, user: str) -> None:
        """Record the account a claimed invite opened."""
        self._runner.execute(Invite
                             .update(user=user_number(user))
                             .where(Invite.code == code))

    # -- the operator's changes ------------------------------------------------------

    def last_change(self) -> int:
        """The id of the newest change: a server starting needs none before it."""
        return self._runner.count(self._sql.last_change)

    def changes(self, after: int) -> list[Change]:
        """The changes past id `after`, oldest first; the users they name are forgotten by
        the caches (a disabled or deleted user no longer exists for messages, 13/05)."""
        rows = self._runner.rows(self._sql.changes, after)
        changes = [Change(int(ident), user_id(int(user)), str(kind), int(at))
                   for ident, user, kind, at in rows]
        for change in changes:
            self._caches.forget_user(change.user)
        return changes
