"""A reconnect's login refused for now (13/99: the node's database is busy) is said again on
the same link after a pause, as a warning: a node that answers a failover's 03 with 13/99
must not leave the client idle until the server's login timeout closes the link."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_session_offline import ME, TOKEN, logged_in

from shared import events as ev
from shared.codes import ErrorCode


def test_reconnect_login_refused_for_now_is_said_again_on_the_same_link(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        session, wire, notices = await logged_in(tmp_path)
        session.lifecycle.down("connection lost")
        session.lifecycle.up()  # on the next node
        assert wire.sent[-1] == ev.Login(ME, TOKEN)
        sent = len(wire.sent)
        session.inbound.handle(ev.Error(ErrorCode.INTERNAL, "busy"))
        assert [n.event for n in notices if n.event in ("warning", "error")] == ["warning"]
        await wire.until(sent + 1)  # the retry delay later, on the same link
        assert wire.sent[-1] == ev.Login(ME, TOKEN)
        session.inbound.handle(ev.LoggedIn(ME))
        assert session.logged_in
        await session.close()

    asyncio.run(scenario())
