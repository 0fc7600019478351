"""Session in-process against a real server: the journal's promise around 12, and keys."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from clientkit import GUARD, ChatServer, offline, online, register, run, until

from interzap_client.conversations import Tick
from interzap_client.history import JOURNAL
from interzap_client.notices import Notice
from interzap_client.session import Session
from shared import events as ev


class Killed(Exception):
    """Stands for SIGKILL inside the client, at one chosen instant."""


def test_session_kill_between_append_and_receipt(chat_server: ChatServer,
                                                 tmp_path: Path) -> None:
    """Killed after storing a 06 but before its 12 left: redelivered, stored once, 12 sent."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)

    async def scenario() -> None:
        a, a_task = await online(data, chat_server.port, alice)
        b, b_task = await online(data, chat_server.port, bob)
        real_send = b.net.send

        def die_before_receipt(event: ev.Event) -> bool:
            if isinstance(event, ev.Receipt):
                # the "kill": the connection drops at once, the 12 never leaves, the
                # network task dies
                b.net._writer.transport.abort()  # type: ignore[union-attr]
                raise Killed
            return real_send(event)

        b.net.send = die_before_receipt  # type: ignore[method-assign]
        message = a.send_text(bob, "do not lose me")
        await asyncio.wait([b_task], timeout=GUARD)
        assert isinstance(b_task.exception(), Killed)
        assert len(b.state.messages) == 1  # it was on disk when the "kill" came
        await offline(b, b_task)
        await until(a, lambda: message.tick is not Tick.PENDING)
        assert message.tick is Tick.ACCEPTED  # no 12 reached the server: no 07

        again, again_task = await online(data, chat_server.port, bob)
        await until(a, lambda: message.tick is Tick.DELIVERED)  # the 12 went out this time
        assert again.received == 0  # a repeat: nothing new to announce
        assert [m.text for m in again.state.conversation(alice).messages] == ["do not lose me"]
        await offline(again, again_task)
        await offline(a, a_task)

    run(scenario)
    journal = (data / bob / JOURNAL).read_text().splitlines()
    assert sum(1 for line in journal if json.loads(line)["t"] == "msg") == 1


def test_session_keys_unique_within_one_second(chat_server: ChatServer, tmp_path: Path) -> None:
    """Three sends in the same second get ts, ts+1, ts+2, and a restart never reuses them."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)

    async def scenario() -> list[int]:
        a = Session(data, "127.0.0.1", chat_server.port, clock=lambda: 1_700_000_000)
        task = asyncio.create_task(a.run_network())
        a.start_login(alice)
        assert await a.answer(GUARD)
        for text in ("one", "two", "three"):
            a.send_text(bob, text)
        await until(a, a.outbox_empty)
        await offline(a, task)
        again = Session(data, "127.0.0.1", chat_server.port, clock=lambda: 1_700_000_000)
        again.use_account(alice)
        return [again.state.next_ts(bob, 1_700_000_000),
                *(m.ts for m in again.state.conversation(bob).messages)]

    next_ts, *used = run(scenario)
    assert used == [1_700_000_000, 1_700_000_001, 1_700_000_002]
    assert next_ts == 1_700_000_003


def test_session_refused_message_leaves_outbox(chat_server: ChatServer, tmp_path: Path) -> None:
    """A 13 answering a 05 marks that message failed, in words, and the outbox drains."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    seen: list[Notice] = []

    async def scenario() -> None:
        a, task = await online(data, chat_server.port, alice)
        a.subscribe(lambda n: n is not None and seen.append(n))
        a.send_text("Client-999999", "hello?")
        await until(a, a.outbox_empty)
        [message] = a.state.conversation("Client-999999").messages
        assert message.tick is Tick.FAILED
        await offline(a, task)

    run(scenario)
    [error] = [n for n in seen if n.event == "error"]
    assert (error.code, error.peer) == (5, "Client-999999")
    assert "no such user" in (error.text or "")
