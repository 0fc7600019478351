"""/block and /unblock: the session's 17s and 18s not yet answered, asked again after
every login.

A block wish has no journal record and no lasting answer of its own: the 19
that answers it may die with a server, so each wish stays here, newest last,
until a 19 (or a 13) settles it, and lifecycle.py asks them all again after
each login (harmless twice). What the server last said about whom we block is
State.blocked (the 19), not this. Refuses to know about sockets, files and
screens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interzap_client.session.errors import SessionError
from interzap_client.session.outbox import BlockRequest
from shared import events as ev

if TYPE_CHECKING:
    from interzap_client.session.facade import Session


class Blocks:
    """The 17s and 18s asked and not yet answered by a 19, in the order asked."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._asked: dict[str, bool] = {}  # user -> block (True) or unblock

    def ask(self, user: str, on: bool) -> None:
        """/block (on) or /unblock: a 17 or 18 now if logged in, and after each login until
        a 19 answers it."""
        if user == self._session.need_state().me:
            raise SessionError("you cannot block yourself")
        self._asked.pop(user, None)  # the newest wish goes last
        self._asked[user] = on
        if self._session.logged_in:
            self._send(user, on)

    def _send(self, user: str, on: bool) -> None:
        self._session.outbox.send(BlockRequest(user, on),
                                  ev.Block(user) if on else ev.Unblock(user))

    def settle(self, request: BlockRequest) -> None:
        """A 17 or 18 was answered (by a 19 or a 13): not to be sent again."""
        if self._asked.get(request.user) == request.on:
            del self._asked[request.user]

    def pending(self, user: str) -> bool:
        """Whether a 17 or 18 about `user` awaits its answer."""
        return user in self._asked

    def repeat(self) -> None:
        """After a login: each 17 and 18 not yet answered, in the order asked."""
        for user, on in self._asked.items():
            self._send(user, on)

    def reset(self) -> None:
        """Another account's wishes are not this one's."""
        self._asked.clear()
