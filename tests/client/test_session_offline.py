"""The session offline: driven through the callbacks a Connection makes, frames collected.

The Connection's send is replaced by a Wire that collects what would be sent;
the session is driven through the same callbacks a Connection calls (up, each
event), so no socket and no server are needed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from interzap_client.conversations import Tick
from interzap_client.notices import Notice
from interzap_client.session import Session, SessionError
from interzap_client.session.states import Step
from shared import events as ev
from shared.codes import ErrorCode

ME, BOB, CAROL = "Client-000001", "Client-000002", "Client-000003"
TOKEN = "0123456789abcdef" * 2


class Wire:
    """Stands for the Connection: collects the frames the session sends."""

    def __init__(self) -> None:
        self.sent: list[ev.Event] = []
        self._more = asyncio.Event()

    def send(self, event: ev.Event) -> bool:
        self.sent.append(event)
        self._more.set()
        return True

    async def until(self, count: int) -> None:
        """Until `count` frames were sent (the timeout is only a guard)."""
        while len(self.sent) < count:
            self._more.clear()
            await asyncio.wait_for(self._more.wait(), 5)


Offline = tuple[Session, Wire, list[Notice]]


def wired(root: Path) -> Offline:
    """A session whose frames go to a Wire, and the list of the notices it makes."""
    session, wire, notices = Session(root, "127.0.0.1", 9), Wire(), []
    session.net.send = wire.send  # type: ignore[method-assign]
    session.subscribe(lambda n: n is not None and notices.append(n))
    return session, wire, notices


def hello_sent(root: Path) -> Offline:
    """A session that sent its 03 as ME, through the callbacks a Connection would make."""
    session, wire, notices = wired(root)
    session.start_login(ME, TOKEN)
    assert session.status == "offline"
    session.lifecycle.step(Step.DIAL)  # what run_network() does before net.run()
    session.lifecycle.up()
    assert wire.sent == [ev.Login(ME, TOKEN)] and session.status == "connected"
    return session, wire, notices


async def logged_in(root: Path) -> Offline:
    """A session logged in as ME (its 03 answered by 04)."""
    session, wire, notices = hello_sent(root)
    session.inbound.handle(ev.LoggedIn(ME))
    assert session.logged_in and await session.answer(1)
    return session, wire, notices


def test_outbox_13_answers_the_oldest_request_awaited(tmp_path: Path) -> None:
    """16 takes its own 05 out; the next 13 is about the oldest 05 still awaited."""

    async def scenario() -> None:
        session, wire, notices = await logged_in(tmp_path)
        first, second = session.send_text(BOB, "one"), session.send_text(CAROL, "two")
        assert wire.sent[1:] == [ev.Send(ME, BOB, first.ts, "one"),
                                 ev.Send(ME, CAROL, second.ts, "two")]
        session.inbound.handle(ev.Accepted(BOB, first.ts))
        session.inbound.handle(ev.Error(ErrorCode.UNKNOWN_PEER, "who?"))
        assert (first.tick, second.tick) == (Tick.ACCEPTED, Tick.FAILED)
        [error] = [n for n in notices if n.event == "error"]
        assert (error.code, error.peer, error.ts) == (ErrorCode.UNKNOWN_PEER, CAROL, second.ts)
        await session.close()

    asyncio.run(scenario())


def test_outbox_refusal_for_now_is_sent_again_with_the_same_key(tmp_path: Path) -> None:
    """13/10 to a 05 is a warning; the same 05 leaves again, after the retry delay."""

    async def scenario() -> None:
        session, wire, notices = await logged_in(tmp_path)
        message = session.send_text(BOB, "again")
        session.inbound.handle(ev.Error(ErrorCode.RATE_LIMITED, "slow down"))
        assert message.tick is Tick.PENDING
        assert [n.event for n in notices if n.event in ("warning", "error")] == ["warning"]
        await wire.until(3)
        assert wire.sent[1] == wire.sent[2] == ev.Send(ME, BOB, message.ts, "again")
        await session.close()

    asyncio.run(scenario())


def test_lifecycle_one_login_at_a_time(tmp_path: Path) -> None:
    """While a 03 waits for its answer, another /login or /register is refused."""

    async def scenario() -> None:
        session, _, _ = hello_sent(tmp_path)
        with pytest.raises(SessionError, match="waiting"):
            session.start_register()
        session.inbound.handle(ev.Error(ErrorCode.BAD_CREDENTIALS, "no"))
        assert not await session.answer(1)
        assert session.status == "offline" and not session.can_send
        await session.close()

    asyncio.run(scenario())


def test_lifecycle_unasked_welcome_is_the_servers_fault(tmp_path: Path) -> None:
    """An 04 nobody asked for is reported as an error, and changes nothing."""

    async def scenario() -> None:
        session, wire, _ = wired(tmp_path)
        session.inbound.handle(ev.LoggedIn(ME))
        assert session.errors == 1 and not session.logged_in and wire.sent == []
        await session.close()

    asyncio.run(scenario())
