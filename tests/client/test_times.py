"""Times shown for messages: the send time, however fast they go (PROTOCOL.md 2, Timestamps)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from clientkit import GUARD, ChatServer, offline, register, run, until

from interzap_client.history import JOURNAL, History, export
from interzap_client.session import Session
from interzap_client.state import State

T = 1_764_030_000
BURST = 60


async def clocked(data: Path, port: int, ident: str,
                  now: int) -> tuple[Session, asyncio.Task[None]]:
    """A Session logged in as `ident` whose clock says `now`."""
    session = Session(data, "127.0.0.1", port, clock=lambda: now)
    task = asyncio.create_task(session.run_network())
    session.start_login(ident)
    assert await session.answer(GUARD)
    return session, task


def test_times_burst_shows_when_it_was_sent(chat_server: ChatServer, tmp_path: Path) -> None:
    """60 sends in one second: keys take 60 seconds, both sides show (and export) that second."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)

    async def scenario() -> None:
        a, a_task = await clocked(data, chat_server.port, alice, T)
        b, b_task = await clocked(data, chat_server.port, bob, T + 1)  # it arrives a second later
        for i in range(BURST):
            a.send_text(bob, f"m{i}")
        await until(b, lambda: b.received == BURST)
        sent = a.state.conversation(bob).messages
        got = b.state.conversation(alice).messages
        assert [m.ts for m in sent] == [T + i for i in range(BURST)]  # keys stay unique
        assert {m.shown_at for m in sent} == {T}
        assert {m.shown_at for m in got} == {T, T + 1}
        assert a.state.conversation(bob).last_time == T
        exported = export(b.state)["messages"][alice]
        assert {m["time"] for m in exported} == {T, T + 1}
        await offline(a, a_task)
        await offline(b, b_task)

    run(scenario)
    again = State(bob)  # the local times are in the journal: a restart shows the same
    History(data / bob, again, readonly=True)
    assert {m.shown_at for m in again.conversation(alice).messages} == {T, T + 1}


def test_times_old_journal_without_local_time_loads(tmp_path: Path) -> None:
    """A journal line written before messages had a local time still loads; it shows its ts."""
    me, bob = "Client-000001", "Client-000002"
    record = {"t": "msg", "src": bob, "dst": me, "ts": T, "text": "old"}
    (tmp_path / JOURNAL).write_text(json.dumps(record) + "\n")
    state = State(me)
    history = History(tmp_path, state)
    assert history.warnings == []
    [message] = state.conversation(bob).messages
    assert (message.at, message.shown_at) == (None, T)
    history.close()
