"""The connection's lifecycle and logging in: dial when there is something to say, say hello, stay.

Theory of operation. The phases and the legal steps between them are in
states.py; this module takes the steps and does what each one means. What a
new link says first is `hello`: a LoginRequest (the credentials, said again
after every reconnect) or a RegisterRequest. None means there is nothing to
say, and then nothing is dialled: a server closes a connection that does not
log in soon. After 02 the new account's credentials become the hello, so a
reconnect logs in again. A refusal for good (13/04, a refused 01) and 13/12
clear it and stop dialling until the next /login or /register; 13/12 signs
this device out (SIGNED_OUT), and must not take the account back from the
device that replaced us until a /login asks for it.

Refuses to know the chat rules (inbound.py), the outbox (outbox.py), the
wire format (network.py) and how anything is shown.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

from interzap_client import profile
from interzap_client.notices import Notice, Origin
from interzap_client.session.errors import SessionError
from interzap_client.session.outbox import RETRY_DELAY, Hello, LoginRequest, RegisterRequest
from interzap_client.session.states import STATUS_WORDS, Phase, RemoteStateError, Step, advance
from shared import events as ev
from shared.codes import ErrorCode

if TYPE_CHECKING:
    from interzap_client.session.facade import Session

H = TypeVar("H", LoginRequest, RegisterRequest)

SIGNED_OUT_WORDS = ("this device was signed out because {id} logged in on another device; "
                    "/login takes the account back (and signs that device out)")


class Lifecycle:
    """One session's phase, what it says first on a link, and the answer to that."""

    def __init__(self, session: Session, token: str | None) -> None:
        self._session = session
        self.phase = Phase.IDLE
        self.hello: Hello | None = None
        self.logins = 0  # 02/04 so far in this session: any after the first is "reconnected"
        self._token = token  # --token: used by a /login without one
        self._answer: asyncio.Future[bool] | None = None  # of the last /login or /register
        self._unreachable: str | None = None  # why the dialling fails, until a link is up
        self._asked_by: Origin | None = None  # the script line of the last /login or /register
        self._wanted = asyncio.Event()  # set while there is something to say, or on close
        self._last_server: str | None = None  # of the last link that came up
        self._again: asyncio.TimerHandle | None = None  # a hello refused for now, said again

    def step(self, step: Step, *, theirs: bool = False) -> None:
        """Move to the phase the transition table names (an illegal step raises)."""
        self.phase = advance(self.phase, step, theirs=theirs)

    @property
    def logged_in(self) -> bool:
        return self.phase is Phase.LOGGED_IN

    @property
    def status(self) -> str:
        return STATUS_WORDS[self.phase]

    @property
    def can_send(self) -> bool:
        """Logged in, or able to log in again by itself (so an outbox will drain)."""
        return self.logged_in or isinstance(self.hello, LoginRequest)

    # ---- the user's requests ---------------------------------------------------

    def start_login(self, ident: str | None, token: str | None = None) -> None:
        """Log in as `ident` (None: the account in use) now and after every reconnect;
        the token is stored if new."""
        self._refuse_while_waiting()
        ident = ident or self._session.me
        if ident is None:
            raise SessionError("no account in use: /login ID [TOKEN]")
        profile.check_id(ident)
        token = token or self._token or profile.load_token(self._session.root, ident)
        profile.check_token(token)
        self._session.account_for_login(ident)
        self._want(LoginRequest(ident, token))

    def start_register(self, code: str | None = None) -> None:
        if self.logged_in:
            raise SessionError(f"already logged in as {self._session.me}")
        self._refuse_while_waiting()
        self._want(RegisterRequest(code))

    def _refuse_while_waiting(self) -> None:
        # one 01/03 at a time: a second one would switch accounts under the first's answer
        if self.phase is Phase.HELLO_SENT:
            raise SessionError("still waiting for the answer to the last /login or /register")

    def _want(self, hello: Hello) -> None:
        self.hello, self._asked_by = hello, self._session.origin
        self._answer = asyncio.get_running_loop().create_future()
        self._wanted.set()
        if self.phase is Phase.CONNECTED:
            self._say_hello()

    async def answer(self, timeout: float) -> bool:
        """Wait for the 02/04 (True) or 13 (False) that answers start_register/start_login."""
        if self.logged_in:
            return True
        if self._answer is None:
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), timeout)
        except TimeoutError:
            server = self._session.server
            self._session.fail(f"could not connect to the server {server} within {timeout:g} s "
                               f"({self._unreachable})" if self._unreachable else
                               f"no answer from the server {server} within {timeout:g} s")
            return False

    def _settle(self, ok: bool) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(ok)

    # ---- the connection ------------------------------------------------------------

    async def run_network(self) -> None:
        """Connect once there is something to say (a login or a registration), and stay.

        Not before: a server may close a connection that does not log in soon.
        """
        net = self._session.net
        while True:
            await self._wanted.wait()
            if self.phase is Phase.CLOSED:
                return
            self.step(Step.DIAL)
            net.resume()
            self._session.touch()
            await net.run()  # returns after close(), or after _stop()

    def close(self) -> None:
        self.step(Step.CLOSE)  # our own goodbye is no "disconnected"
        if self._again is not None:
            self._again.cancel()
        self._wanted.set()  # let run_network() see it

    def _stop(self) -> None:
        """Nothing left to say: stop dialling until the next /login or /register."""
        self.hello = None
        self._wanted.clear()
        self._session.net.pause()

    def unreachable(self, reason: str) -> None:
        """The first failed dial of a series (the dialling goes on, with backoff)."""
        self._unreachable = reason
        self._session.notify(Notice("warning", text=f"cannot connect to the server "
                                    f"{self._session.server}: {reason}; trying again"))

    def up(self) -> None:
        self._unreachable = None
        self.step(Step.UP)
        self._say_failover()
        self._session.outbox.clear()
        if self.phase is Phase.CONNECTED:
            self._say_hello()
        self._session.touch()

    def _say_failover(self) -> None:
        """A link up on another server than the last one: the client failed over."""
        server, last = self._session.server, self._last_server
        self._last_server = server
        if last is not None and server != last:
            self._session.notify(Notice("failover", server=server,
                                        text=f"now on the server {server} (was {last})"))

    def down(self, reason: str) -> None:
        was_logged_in = self.logged_in
        self._session.outbox.clear()
        self._session.live.forget()
        self.step(Step.DOWN)
        if was_logged_in:
            self._session.notify(Notice("disconnected", text=reason))
        else:
            self._session.touch()

    def _say_hello(self) -> None:
        hello = self.hello
        if hello is None:
            return
        frame: ev.Event
        if isinstance(hello, LoginRequest):
            frame = ev.Login(hello.ident, hello.token)
        else:
            frame = ev.Register() if hello.code is None else ev.RegisterInvite(hello.code)
        if self._session.outbox.send(hello, frame):
            self.step(Step.HELLO)

    # ---- the server's answers --------------------------------------------------------

    def registered(self, event: ev.Registered) -> None:
        """02: store the new account, and log in with it after every reconnect."""
        self._welcomed(RegisterRequest)
        profile.save_account(self._session.root, event.user, event.token)
        self._session.load_account(event.user)
        self.hello = LoginRequest(event.user, event.token)
        self._logged_in_as(event.user, "registered")

    def logged_in_as(self, event: ev.LoggedIn) -> None:
        """04: logged in; the token that worked is stored if it was typed, and the
        account is loaded if it was not stored here before (account_for_login)."""
        hello = self._welcomed(LoginRequest)
        self._keep_token(hello)
        self._session.load_account(hello.ident)
        self._logged_in_as(event.user, "reconnected" if self.logins else "logged_in")

    def _welcomed(self, kind: type[H]) -> H:
        hello = self.hello
        if not isinstance(hello, kind):  # a 02 for a 03, or the other way round
            raise RemoteStateError(self.phase, Step.WELCOME)
        self.step(Step.WELCOME, theirs=True)
        self._session.outbox.answered(hello)
        return hello

    def _keep_token(self, hello: LoginRequest) -> None:
        root = self._session.root
        try:
            stored: str | None = profile.load_token(root, hello.ident)
        except profile.ProfileError:
            stored = None  # a login from a new machine
        if stored != hello.token:
            profile.save_account(root, hello.ident, hello.token)

    def _logged_in_as(self, ident: str, event: str) -> None:
        self.logins += 1
        self._session.notify(Notice(event, id=ident, server=self._session.server))
        self._settle(True)
        self._session.outbox.flush()
        self._session.repeat_reads()
        self._session.blocks.repeat()
        self._session.live.repeat()

    def refused(self, request: Hello, code: int, words: str) -> None:
        """A 13 answered our 01/20/03: for good (a refused 01 or 20, a wrong token, a
        disabled account), or for now."""
        final = isinstance(request, RegisterRequest) or code in (ErrorCode.BAD_CREDENTIALS,
                                                                  ErrorCode.ACCOUNT_DISABLED)
        self.step(Step.GIVE_UP if final else Step.REFUSED, theirs=True)
        if final or not self.logins:
            self._session.fail_about(self._asked_by, words, code)
        else:  # a reconnect's login, which nobody waits for: it is tried again by itself
            self._session.notify(Notice("warning", code=code, text=words))
        if final:
            self._stop()  # nothing to retry at each reconnect (an idle connection gets closed)
        else:
            self._hello_later()
        if final and isinstance(request, LoginRequest) and self._session.me == request.ident:
            self._session.unload_account()  # not logged in, so no account to show
        self._settle(False)

    def _hello_later(self) -> None:
        """Refused for now (13/99 from a node whose database is busy, 13/10): say hello again
        on this link after a pause, rather than idle until the server's login timeout
        closes it."""
        if self._again is not None:
            self._again.cancel()
        self._again = asyncio.get_running_loop().call_later(RETRY_DELAY, self._hello_again)

    def _hello_again(self) -> None:
        self._again = None
        if self.phase is Phase.CONNECTED:  # not if the link went, or a hello left meanwhile
            self._say_hello()

    def replaced(self, code: int, words: str | None = None) -> None:
        """13/12, unsolicited: we logged in on another device; the server closes us next.
        Also 13/22 or 13/04 to a logged-in connection: the operator disabled the account,
        or gave it a new token (`words` say which): do not log in again by ourselves."""
        self.step(Step.REPLACED, theirs=True)
        self._stop()  # do not take the account back from the other device
        me = self._session.me
        self._session.notify(Notice("signed_out", id=me, code=code,
                                    text=words or SIGNED_OUT_WORDS.format(id=me)))
