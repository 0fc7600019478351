"""A client given several nodes of one service fails over to the next when its node dies.

Two real server processes on one PostgreSQL database (the throwaway cluster of
tests/postgres.py, through the `backend` fixture; SQLite serves one node
only). The sender is an in-process Session with both servers; the recipient is
a raw wire client, so that a 06 sent twice would be seen, not folded by the
client's own state. Nothing waits on time: each step waits for the event it
needs, with a guard.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from clientkit import GUARD, ROOT, ChatServer, closed_port, offline, run, until
from wire import ServerFactory, ServerProcess, WireClient

from interzap_client.conversations import Tick
from interzap_client.notices import Notice
from interzap_client.servers import Address
from interzap_client.session import Session
from shared import events as ev

BURST = 60
"""Messages in the burst the node dies in the middle of (about a second at the client's
starting pace)."""


ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
"""Nodes on one PostgreSQL database (tests/conftest.py's server_factory on that backend)."""


def _accounts(node: ServerProcess) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two new accounts, (id, token) each, registered on `node`."""
    made = []
    for _ in range(2):
        client = WireClient.connect(*node.address)
        made.append(client.register())
        client.close()
    return made[0], made[1]


def _everything_for(user: tuple[str, str], node: ServerProcess) -> list[ev.Deliver]:
    """Log in on `node` and take every 06 waiting there, until the server has no more."""
    client = WireClient.connect(*node.address)
    client.login(*user)
    frames = client.sync()
    client.close()
    return [frame for frame in frames if isinstance(frame, ev.Deliver)]


def _session(folder: Path, first: ServerProcess, *others: ServerProcess,
             keepalive: float = 30.0) -> Session:
    return Session(folder, *first.address, fallbacks=[Address(*o.address) for o in others],
                   keepalive=keepalive)


@ON_POSTGRESQL
def test_kill_9_mid_burst_every_message_accepted_once_in_order(
        tmp_path: Path, server_factory: ServerFactory) -> None:
    a, b = (server_factory.start(extra_args=["--cluster"]) for _ in range(2))
    alice, bob = _accounts(a)
    texts = [f"burst {n:03d}" for n in range(BURST)]

    async def scenario() -> list[Notice]:
        session = _session(tmp_path / "alice", a, b)
        heard: list[Notice] = []
        session.subscribe(lambda notice: heard.append(notice) if notice else None)
        task = _start(session, alice)
        assert await session.answer(GUARD)
        assert session.server == f"127.0.0.1:{a.port}"
        sent = [session.send_text(bob[0], text) for text in texts]
        await until(session, lambda: sum(m.tick is Tick.ACCEPTED for m in sent) >= BURST // 4)
        a.kill()  # kill -9 while most of the burst is still on its way
        await until(session, session.outbox_empty)
        assert all(m.tick is Tick.ACCEPTED for m in sent)
        assert session.server == f"127.0.0.1:{b.port}"
        await offline(session, task)
        return heard

    heard = run(scenario)
    events = [n.event for n in heard]
    assert "failover" in events and "reconnected" in events, events
    moved = next(n for n in heard if n.event == "failover")
    assert moved.server == f"127.0.0.1:{b.port}"
    again = next(n for n in heard if n.event == "reconnected")
    assert again.server == f"127.0.0.1:{b.port}"
    got = _everything_for(bob, b)
    assert [m.text for m in got] == texts  # each once, in order: no loss, no duplicate
    assert all(m.src == alice[0] for m in got)
    assert [m.ts for m in got] == sorted({m.ts for m in got})


def _start(session: Session, user: tuple[str, str]) -> asyncio.Task[None]:
    task = asyncio.create_task(session.run_network())
    session.start_login(*user)
    return task


@ON_POSTGRESQL
def test_a_silent_node_is_given_up_after_the_ping_and_the_next_one_used(
        tmp_path: Path, server_factory: ServerFactory) -> None:
    """SIGSTOP: the node keeps its sockets open but answers nothing; only the keepalive's
    ping (14) and its timeout can tell."""
    a, b = (server_factory.start(extra_args=["--cluster"]) for _ in range(2))
    alice, bob = _accounts(a)

    async def scenario() -> None:
        session = _session(tmp_path / "alice", a, b, keepalive=0.3)
        task = _start(session, alice)
        assert await session.answer(GUARD)
        a.proc.send_signal(signal.SIGSTOP)
        try:
            message = session.send_text(bob[0], "after the silence")
            await until(session, lambda: message.tick is Tick.ACCEPTED)
            assert session.server == f"127.0.0.1:{b.port}"
        finally:
            a.proc.send_signal(signal.SIGCONT)
        await offline(session, task)

    run(scenario)
    assert [m.text for m in _everything_for(bob, b)] == ["after the silence"]


def test_scripted_client_takes_a_comma_list_and_says_where_it_is(
        tmp_path: Path, chat_server: ChatServer) -> None:
    """--server with a dead address first: the next one is dialled, and the JSON events
    say which server the session is on (one node on SQLite is enough for that)."""
    live = chat_server
    dead = closed_port()
    done = subprocess.run(
        [sys.executable, "-m", "interzap_client", "--data-dir", str(tmp_path / "c"), "--json",
         "--timeout", "10", "--server", f"127.0.0.1:{dead},127.0.0.1:{live.port}"],
        cwd=ROOT, input="/register\n", capture_output=True, text=True, timeout=GUARD)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, (events, done.stderr)
    registered = next(e for e in events if e["event"] == "registered")
    assert registered["server"] == f"127.0.0.1:{live.port}"
    warning = next(e for e in events if e["event"] == "warning")
    assert f"127.0.0.1:{dead}" in warning["text"]
