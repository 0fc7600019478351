"""A server that is not there: said at once, in words, while the client keeps dialling."""

from __future__ import annotations

import asyncio
from pathlib import Path

from clientkit import closed_port

from interzap_client import profile
from interzap_client.notices import Notice
from interzap_client.session import Session

ME, TOKEN = "Client-000001", "0123456789abcdef" * 2


def test_unreachable_refused_is_said_at_once(tmp_path: Path) -> None:
    """A closed port: "connection refused" comes at the first refusal, not after --timeout."""
    profile.save_account(tmp_path, ME, TOKEN)
    seen: list[Notice] = []

    async def scenario() -> tuple[bool, bool]:
        session = Session(tmp_path, "127.0.0.1", closed_port())
        session.subscribe(lambda n: n is not None and seen.append(n))
        task = asyncio.create_task(session.run_network())
        session.start_login(ME)
        said = await session.wait_until(lambda: bool(seen), 5.0)  # --timeout is 30 s
        answered = await session.answer(0.5)  # dialling went on meanwhile, in vain
        await session.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return said, answered

    assert asyncio.run(scenario()) == (True, False)
    warning, error = seen
    assert warning.event == "warning" and "connection refused" in (warning.text or "")
    assert error.event == "error" and "could not connect" in (error.text or "")
    assert "connection refused" in (error.text or "")
