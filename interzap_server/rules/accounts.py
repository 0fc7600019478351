"""The rules of accounts and connections: 01 register, 20 register with an invite,
03 login, 14 ping, 15 pong.

Knows tokens, their hashes, the registration mode (--registration) and who is
logged in where (sessions.py); knows no messages, no groups, no sockets and no SQL.
"""

import hashlib
import hmac
import logging
import secrets
from functools import partial

from interzap_server.rules.context import Context, Unit
from interzap_server.sessions import Sessions
from interzap_server.storage import DELETE, DISABLE, RESET, Change
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError

log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    """What the database keeps of a token (tokens are 128 random bits: no slow hash needed)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


_NO_USER_HASH = hash_token("0" * 32)  # compared against when the id is unknown: same timing


OPEN, INVITE, CLOSED = "open", "invite", "closed"
"""The registration modes (--registration): anyone may register (01, or 20 with a valid
invite), only with an invite (20), or nobody."""
REFUSED_01 = {
    INVITE: "this server takes new accounts by invitation only: ask its operator for an "
            "invite code, then register with it (/register CODE)",
    CLOSED: "this server takes no new accounts: ask its operator",
}
"""The reason of a 13/20, per mode: what the person can do."""
BAD_INVITE = {
    "unknown": "no such invite code: check it, or ask the operator for a new one",
    "used": "this invite code was used already: ask the operator for a new one",
    "expired": "this invite code has expired: ask the operator for a new one",
}
"""The reason of a 13/21, per claim_invite()'s answer (PROTOCOL.md 5.15: telling them
apart gives nothing away worth hiding; the codes are 79 random bits)."""
DISABLED = "the server's operator disabled this account: ask them to enable it"


def register(ctx: Context, unit: Unit, event: ev.Register) -> None:
    """01: a new account, logged in on this connection; 02 says its id and token.
    Refused 13/20 unless registration is open."""
    if ctx.registration != OPEN:
        raise RemoteProtocolError(ErrorCode.REGISTRATION_CLOSED, REFUSED_01[ctx.registration])
    _open_account(ctx, unit)


def register_invite(ctx: Context, unit: Unit, event: ev.RegisterInvite) -> None:
    """20: as 01, with an invite code consumed in the same transaction as the account;
    13/21 for a code that cannot be used (nothing is written), 13/20 if registration is
    closed."""
    if ctx.registration == CLOSED:
        raise RemoteProtocolError(ErrorCode.REGISTRATION_CLOSED, REFUSED_01[CLOSED])
    why = ctx.store.accounts.claim_invite(event.code, ctx.now)
    if why is not None:
        raise RemoteProtocolError(ErrorCode.BAD_INVITE, BAD_INVITE[why])
    user = _open_account(ctx, unit)
    ctx.store.accounts.invited(event.code, user)


def _open_account(ctx: Context, unit: Unit) -> str:
    token = secrets.token_hex(16)
    user = ctx.store.register(hash_token(token), ctx.now)
    unit.effects += (partial(log.info, "registered %s", user),)
    ctx.sessions.log_in(unit.session, user, ctx.now)
    unit.undo = partial(ctx.sessions.log_out, unit.session)
    ctx.reply(unit, encode(ev.Registered(user, token)))
    return user


def login(ctx: Context, unit: Unit, event: ev.Login) -> None:
    """03: the id and token match (else 13/04, reported to ctx.on_failed_login) and the
    account is not disabled (else 13/22); 04, then the queue (sessions.py)."""
    stored = ctx.store.accounts.credentials(event.user)
    matches = hmac.compare_digest(stored.token_hash if stored else _NO_USER_HASH,
                                  hash_token(event.token))
    if stored is None or not matches:
        ctx.on_failed_login(unit.session.link)
        raise RemoteProtocolError(ErrorCode.BAD_CREDENTIALS, "unknown id or wrong token")
    if stored.disabled:
        raise RemoteProtocolError(ErrorCode.ACCOUNT_DISABLED, DISABLED)
    ctx.store.accounts.logged_in(event.user, ctx.now)  # in memory; written at the next tick
    log.info("%s logged in", event.user)
    ctx.sessions.log_in(unit.session, event.user, ctx.now)
    ctx.reply(unit, encode(ev.LoggedIn(event.user)))


def require_user(ctx: Context, user: str) -> None:
    """Refuse with 13/05 unless `user` has an account."""
    if not ctx.store.user_exists(user):
        raise RemoteProtocolError(ErrorCode.UNKNOWN_PEER, f"there is no user {user}")


def ping(ctx: Context, unit: Unit, event: ev.Ping) -> None:
    """14: 15, once everything before it is committed (PROTOCOL.md 5.3)."""
    ctx.reply(unit, encode(ev.Pong()))


def pong(ctx: Context, unit: Unit, event: ev.Pong) -> None:
    """15: nothing for the rules; the connection counts it as an answer to its 14 (peer.py)."""


CLOSING = {
    DISABLE: (ErrorCode.ACCOUNT_DISABLED, DISABLED),
    RESET: (ErrorCode.BAD_CREDENTIALS,
            "the server's operator gave this account a new token: log in with that one"),
    DELETE: (ErrorCode.BAD_CREDENTIALS, "the server's operator deleted this account"),
}
"""What a live session is told, per change of its account, as it is closed."""


def close_changed(sessions: Sessions, changes: list[Change]) -> None:
    """The operator's changes to accounts (interzap-admin, read once a second): the live
    session of a disabled, deleted or reset account is told why (a 13) and closed."""
    for change in changes:
        closing = CLOSING.get(change.kind)
        # a session opened after a reset logged in with the new token: it stays (one
        # opened in the same second is closed: the safe side)
        since_at_most = change.at if change.kind == RESET else None
        if closing is not None and sessions.close_user(change.user, *closing, since_at_most):
            log.info("%s: closed its session: %s", change.user, closing[1])
