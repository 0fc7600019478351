"""The rules of accounts and connections: 01 register, 03 login, 14 ping, 15 pong.

Knows tokens, their hashes and who is logged in where (sessions.py); knows no
messages, no groups, no sockets and no SQL.
"""

import hashlib
import hmac
import logging
import secrets
from functools import partial

from interzap_server.rules.context import Context, Unit
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError

log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    """What the database keeps of a token (tokens are 128 random bits: no slow hash needed)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


_NO_USER_HASH = hash_token("0" * 32)  # compared against when the id is unknown: same timing


def register(ctx: Context, unit: Unit, event: ev.Register) -> None:
    """01: a new account, logged in on this connection; 02 says its id and token."""
    token = secrets.token_hex(16)
    user = ctx.store.register(hash_token(token), ctx.now)
    unit.effects.append(partial(log.info, "registered %s", user))
    ctx.sessions.log_in(unit.session, user)
    unit.undo = partial(ctx.sessions.log_out, unit.session)
    ctx.reply(unit, encode(ev.Registered(user, token)))


def login(ctx: Context, unit: Unit, event: ev.Login) -> None:
    """03: the id and token match (else 13/04); 04, then the queue (sessions.py)."""
    stored = ctx.store.token_hash(event.user)
    matches = hmac.compare_digest(stored or _NO_USER_HASH, hash_token(event.token))
    if stored is None or not matches:
        raise RemoteProtocolError(ErrorCode.BAD_CREDENTIALS, "unknown id or wrong token")
    log.info("%s logged in", event.user)
    ctx.sessions.log_in(unit.session, event.user)
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
