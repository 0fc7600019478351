"""The full screen on a list of servers: the status bar names the node in use, and a
failover is said in the system log and the status bar (the session's notice; no bytes)."""

from __future__ import annotations

from pathlib import Path

from clientkit import run
from uikit import ME, eventually, offline_app, screen

from interzap_client.servers import Address
from interzap_client.session import Session
from interzap_client.session.states import Step


def test_ui_status_bar_follows_the_node_in_use(tmp_path: Path) -> None:
    session = Session(tmp_path, "10.0.0.1", 9070, fallbacks=[Address("10.0.0.2", 9070)])
    session.use_account(ME)

    async def scenario() -> None:
        async with offline_app(session, 100, 12) as (app, _):
            assert "10.0.0.1:9070" in screen(app, 100, 12)[-2]
            # the callbacks the connection makes: up on 10.0.0.1, down, up on the next node
            session.lifecycle.step(Step.DIAL)
            session.lifecycle.up()
            session.lifecycle.down("the server closed the connection")
            session.net.servers.failed()
            session.lifecycle.up()
            await eventually(lambda: "10.0.0.2:9070" in screen(app, 100, 12)[-2],
                             "the status bar to name the new node")
            assert any("now on the server 10.0.0.2:9070 (was 10.0.0.1:9070)" in row
                       for row in screen(app, 100, 12))

    run(scenario)
