"""Signed out: a second login of the same account on another device (13/12)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from clientkit import GUARD, ChatServer, ClientProcess, offline, online, register, run, until

from interzap_client import profile
from interzap_client.conversations import Tick
from interzap_client.notices import Notice
from interzap_client.session import Session


def test_signed_out_stays_out_until_login(chat_server: ChatServer, tmp_path: Path) -> None:
    """The first device says it was signed out, does not dial, keeps what is typed, and a
    bare /login takes the account back and sends it."""
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    token = profile.load_token(data, alice)
    seen: list[Notice] = []

    async def scenario() -> None:
        first, first_task = await online(data, chat_server.port, alice)
        first.subscribe(lambda n: n is not None and seen.append(n))
        second = Session(elsewhere, "127.0.0.1", chat_server.port)
        second_task = asyncio.create_task(second.run_network())
        second.start_login(alice, token)
        assert await second.answer(GUARD)
        await until(first, lambda: first.signed_out and not first.net.connected)
        assert first.status == "signed out" and first.me == alice
        held = first.send_text(bob, "typed while signed out")
        assert held.tick is Tick.PENDING
        first.start_login(None)  # the account in use, with the stored token
        assert await first.answer(GUARD)
        await until(first, lambda: held.tick is Tick.ACCEPTED)
        await until(second, lambda: second.signed_out)
        await offline(second, second_task)
        await offline(first, first_task)

    run(scenario)
    events = [n.event for n in seen]
    assert events[0] == "signed_out" and "disconnected" not in events
    assert "another device" in (seen[0].text or "") and "/login" in (seen[0].text or "")
    assert [n for n in seen if n.event == "error"] == []
    [held] = [n for n in seen if n.event == "warning"]
    assert "outbox" in (held.text or "") and "/login" in (held.text or "")


def test_signed_out_scripted_event(chat_server: ChatServer, tmp_path: Path,
                                   clients: list[ClientProcess]) -> None:
    """A scripted client prints a signed_out event, and /login brings it back."""
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    alice = register(chat_server.port, data)
    token = profile.load_token(data, alice)
    first = ClientProcess(chat_server.port, data, "--account", alice)
    clients.append(first)
    first.expect("logged_in")
    second = ClientProcess(chat_server.port, elsewhere, "--account", alice, "--token", token)
    clients.append(second)
    second.expect("logged_in")
    event = first.expect("signed_out")
    assert event["id"] == alice and event["code"] == 12
    first.send("/login")
    first.expect(lambda e: e["event"] in ("logged_in", "reconnected"))
    second.expect("signed_out")
    assert first.finish() == 0 and second.finish() == 0
