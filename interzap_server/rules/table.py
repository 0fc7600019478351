"""The rule table: per frame a client may send, its handler and its policy.

The policy says what a frame may do, whatever its handler does: the service's
dispatch and its transaction read it, and nothing else decides it. A new frame
is one row here (and a handler in the module of its subject).

Knows frame types, handlers and policies; knows no sockets, no SQL and no
transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from interzap_server.rules import (
    accounts,
    actions,
    blocks,
    changes,
    groups,
    info,
    messages,
    names,
    presence,
    reads,
)
from interzap_server.rules.context import Context, Unit
from shared import events as ev
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError

Item = ev.Event | RemoteProtocolError
"""What the loop hands the service: a decoded frame, or the 13 a line earned instead."""
Handler = Callable[[Context, Unit, Item], None]
E = TypeVar("E", bound=Item)


@dataclass(frozen=True, slots=True)
class Policy:
    """What a frame may do.

    writes: it stores something, so its answer waits on the commit, and a
        failed commit answers it 13/99 (a 16 for a retransmission too: it may
        vouch for a row of this very batch).
    answered: its sender waits for an answer, so the batch commits at the end
        of this iteration, and a failure of the database is answered 13/99.
        Not for 12 and 08 (PROTOCOL.md 5.1): a failure goes unanswered, and the
        commit may wait COMMIT_DELAY for company. The rules' own refusals
        (13/03, 13/05, 13/07, ...) are answered either way.
    before_login: allowed on a connection not logged in (else 13/03).
    logs_in: refused on a connection already logged in (13/11).
    rate_free: not counted by the rate limit (PROTOCOL.md 5.7); the limit itself
        (limits.py) reads shared.events.RATE_FREE, which this column matches.
    ephemeral: never stored and never commits a batch: it neither ends a
        transaction nor keeps one open; what it sends leaves with the batch.
    """

    writes: bool = False
    answered: bool = False
    before_login: bool = False
    logs_in: bool = False
    rate_free: bool = False
    ephemeral: bool = False
    # what the frame does to the open transaction, worked out once
    urgent: bool = field(init=False)  # commit it at the end of this iteration
    defers: bool = field(init=False)  # it may stay open COMMIT_DELAY for more

    def __post_init__(self) -> None:
        if self.ephemeral and self.writes:
            raise ValueError("an ephemeral frame is never stored")
        object.__setattr__(self, "urgent", self.answered and not self.ephemeral)
        object.__setattr__(self, "defers", not self.answered and not self.ephemeral)

    def login_refusal(self, user: str | None) -> RemoteProtocolError:
        """The login state's refusal (PROTOCOL.md 5.1, step 4) of a frame the service found
        out of place, on a connection logged in as `user` (None: not yet): 13/03 before
        (not `before_login`), 13/11 after (`logs_in`)."""
        if user is None:
            return RemoteProtocolError(ErrorCode.NOT_LOGGED_IN,
                                       "log in (03) or register (01) first")
        return RemoteProtocolError(ErrorCode.ALREADY_LOGGED_IN,
                                   f"this connection is already logged in as {user}")


@dataclass(frozen=True, slots=True)
class Rule:
    """A frame's handler and its policy."""

    handler: Handler
    policy: Policy


def rule(frame: type[E], handler: Callable[[Context, Unit, E], None],
         policy: Policy) -> tuple[type, Rule]:
    """One row of RULES. The table is keyed by the frame's type, so `handler` is only
    ever called with a `frame`: what the cast to the table's handler type states."""
    return frame, Rule(cast(Handler, handler), policy)


def refused(ctx: Context, unit: Unit, error: RemoteProtocolError) -> None:
    """A line that never became a frame (13/01, 13/02, 13/09, 13/10): its 13, as it is."""
    raise error


RULES: dict[type, Rule] = dict((
    rule(RemoteProtocolError, refused, Policy(answered=True, before_login=True)),
    rule(ev.Register, presence.register,
         Policy(writes=True, answered=True, before_login=True, logs_in=True)),
    rule(ev.Login, presence.login, Policy(answered=True, before_login=True, logs_in=True)),
    rule(ev.Ping, accounts.ping, Policy(answered=True, before_login=True)),
    rule(ev.Pong, accounts.pong, Policy(before_login=True, rate_free=True, ephemeral=True)),
    rule(ev.Send, messages.send, Policy(writes=True, answered=True)),
    rule(ev.Receipt, messages.receipt, Policy(writes=True, rate_free=True)),
    rule(ev.CreateGroup, groups.create, Policy(writes=True, answered=True)),
    rule(ev.Read, reads.read, Policy(writes=True)),
    rule(ev.Block, blocks.block, Policy(writes=True, answered=True)),
    rule(ev.Unblock, blocks.unblock, Policy(writes=True, answered=True)),
    rule(ev.RegisterInvite, accounts.register_invite,
         Policy(writes=True, answered=True, before_login=True, logs_in=True)),
    rule(ev.SetName, names.set_name, Policy(writes=True, answered=True)),
    rule(ev.GroupChange, changes.change, Policy(writes=True, answered=True)),
    rule(ev.Info, info.info, Policy(answered=True)),
    rule(ev.Typing, presence.typing, Policy(ephemeral=True)),
    rule(ev.Privacy, presence.privacy, Policy(writes=True, answered=True)),
    rule(ev.PresenceAsk, presence.ask, Policy(answered=True)),
    rule(ev.Act, actions.act, Policy(writes=True, answered=True)),
))
"""Every frame a client may send, and a line that failed to be one."""
