"""Leaving with messages still in the outbox says how many wait, and that they go next time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from clientkit import ChatServer, register, run_script

from interzap_client import profile
from interzap_client.notices import Notice
from interzap_client.session import Session
from interzap_client.session.facade import waiting_words


def test_pending_scripted_event(chat_server: ChatServer, tmp_path: Path) -> None:
    """A script that cannot drain its outbox ends with a `pending` event that counts it."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    chat_server.stop()
    status, events, _ = run_script(chat_server.port, data,
                                   f"/send {bob} one\n/send {bob} two\n",
                                   "--account", alice, "--timeout", "0.5")
    assert status == 1
    assert events[-1] == {"event": "pending", "count": 2,
                          "text": "2 messages wait in the outbox, not accepted by the server "
                                  "yet; sent at the next start"}


def test_pending_said_on_close(tmp_path: Path) -> None:
    """Closing a session (as the full screen does on /quit) with an entry left says so."""
    me, bob = "Client-000001", "Client-000002"
    profile.save_account(tmp_path, me, "0123456789abcdef" * 2)
    seen: list[Notice] = []

    async def scenario() -> None:
        session = Session(tmp_path, "127.0.0.1", 9)
        session.subscribe(lambda n: n is not None and seen.append(n))
        session.start_login(me)  # not dialled: run_network() is not running
        session.send_text(bob, "later")
        await session.close()

    asyncio.run(scenario())
    assert [(n.event, n.count) for n in seen] == [("pending", 1)]
    assert seen[0].text == waiting_words(1, 0)
    assert waiting_words(1, 0).startswith("1 message waits")
    assert waiting_words(2, 1).startswith("2 messages and 1 group wait")
    assert waiting_words(0, 0, 1).startswith("1 change waits")
