"""Logging in: a refused /login leaves nothing behind and says why once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from clientkit import GUARD, ChatServer, register, run, run_script

from interzap_client import profile
from interzap_client.notices import Notice
from interzap_client.session import Session

WRONG = "0" * 32


def test_login_wrong_token_leaves_no_account_folder(chat_server: ChatServer,
                                                    tmp_path: Path) -> None:
    """A wrong token on a new machine: refused in words said once, and no folder is made."""
    alice = register(chat_server.port, tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    status, events, _ = run_script(chat_server.port, elsewhere, f"/login {alice} {WRONG}\n")
    assert status == 1
    [refused] = [e for e in events if e["event"] == "error"]
    assert (refused["code"], refused["text"]) == (4, "unknown id or wrong token")
    assert not (elsewhere / alice).exists()


def test_login_refused_shows_no_account(chat_server: ChatServer, tmp_path: Path) -> None:
    """After a refused login the session has no account to show, stored here or not."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    seen: list[Notice] = []

    async def refused(root: Path) -> tuple[str | None, str]:
        session = Session(root, "127.0.0.1", chat_server.port)
        session.subscribe(lambda n: n is not None and seen.append(n))
        task = asyncio.create_task(session.run_network())
        session.start_login(alice, WRONG)
        assert not await session.answer(GUARD)
        outcome = session.me, session.status  # what the status bar shows
        await session.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return outcome

    assert run(lambda: refused(tmp_path / "new")) == (None, "offline")
    assert run(lambda: refused(data)) == (None, "offline")
    assert profile.load_token(data, alice) != WRONG  # the stored token is kept
    assert [n.event for n in seen].count("error") == 2
