"""The full-screen UI, driven through prompt_toolkit's pipe input and a dummy output.

The chat partner is a plain in-process Session on the same asyncio loop; the
server is a real subprocess. Screens are checked through the same functions
the layout renders from.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from clientkit import GUARD, ChatServer, offline, online, register, run, until
from prompt_toolkit.input import create_pipe_input
from uikit import (
    CTRL_N,
    ENTER,
    SizedOutput,
    chat_app,
    eventually,
    lines_text,
    text_of,
)

from interzap_client.session import Session
from interzap_client.ui.app import ChatApp
from interzap_client.ui.layout import chat_lines, chat_title, conversation_list, status_line
from interzap_client.ui.style import STYLE


def two_users(server: ChatServer, tmp_path: Path) -> tuple[Path, str, str]:
    data = tmp_path / "data"
    return data, register(server.port, data), register(server.port, data)


def test_ui_typing_survives_an_arrival(chat_server: ChatServer, tmp_path: Path) -> None:
    """A message arriving while you type is shown, and the typed text stays intact."""
    data, alice, bob = two_users(chat_server, tmp_path)

    async def scenario() -> None:
        b, b_task = await online(data, chat_server.port, bob)
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            keys.send_text(f"/open {bob}{ENTER}")
            await eventually(lambda: app.session.open_peer == bob, "the conversation to open")
            keys.send_text("half a tho")
            await eventually(lambda: app.input.text == "half a tho", "the typed text")
            b.send_text(alice, "news from bob")
            await eventually(lambda: "news from bob" in lines_text(chat_lines(app.view)),
                             "the arrival on screen")
            assert app.input.text == "half a tho"
            assert app.input.buffer.cursor_position == len("half a tho")
            keys.send_text("ught" + ENTER)
            await eventually(lambda: "you: half a thought" in lines_text(
                chat_lines(app.view)), "the sent message")
            assert app.input.text == ""
            await until(b, lambda: b.received == 1)
            assert app.app.output.bells == 0  # it arrived in the open conversation
        await offline(b, b_task)

    run(scenario)


def test_ui_ticks_follow_16_07_09(chat_server: ChatServer, tmp_path: Path) -> None:
    """An own message shows pending, ✓ (16), ✓✓ (07), then ✓✓ in the read colour (09)."""
    data, alice, bob = two_users(chat_server, tmp_path)
    seen: list[str] = []

    def last_tick(app: ChatApp) -> None:
        styles = [f[0] for line in chat_lines(app.view) for f in line
                  if f[0].startswith("class:tick")]
        if styles and (not seen or seen[-1] != styles[-1]):
            seen.append(styles[-1])

    async def scenario() -> None:
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            app.session.subscribe(lambda _: last_tick(app))
            keys.send_text(f"/open {bob}{ENTER}hello bob{ENTER}")
            await eventually(lambda: "class:tick.accepted" in seen, "✓")
            b, b_task = await online(data, chat_server.port, bob)  # bob comes online: 07
            await eventually(lambda: "class:tick.delivered" in seen, "✓✓")
            b.open(alice)  # bob reads: 08, and alice gets 09
            await eventually(lambda: "class:tick.read" in seen, "✓✓ read")
            await offline(b, b_task)
            assert "hello bob\u00a0✓✓" in lines_text(chat_lines(app.view))

    run(scenario)
    assert seen == ["class:tick.pending", "class:tick.accepted", "class:tick.delivered",
                    "class:tick.read"]
    read = STYLE.get_attrs_for_style_str("class:tick.read")
    delivered = STYLE.get_attrs_for_style_str("class:tick.delivered")
    assert read.color != delivered.color


def test_ui_unread_counts_and_bell(chat_server: ChatServer, tmp_path: Path) -> None:
    """Arrivals elsewhere raise the unread count and ring; opening the chat clears it."""
    data, alice, bob = two_users(chat_server, tmp_path)

    async def scenario() -> None:
        b, b_task = await online(data, chat_server.port, bob)
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            first = b.send_text(alice, "one")
            b.send_text(alice, "two")
            await eventually(lambda: "(2)" in text_of(conversation_list(app.view)),
                             "the unread count")
            assert app.app.output.bells == 2
            keys.send_text(CTRL_N)  # the only conversation: open it
            await eventually(lambda: app.session.open_peer == bob, "Ctrl-N to open it")
            assert "(2)" not in text_of(conversation_list(app.view))
            await until(b, lambda: first.tick.name == "READ")  # opening sent 08
        await offline(b, b_task)

    run(scenario)


def test_ui_status_bar_and_errors_in_words(chat_server: ChatServer, tmp_path: Path) -> None:
    """The status bar shows id, server and connection; a 13 is shown in words."""
    data, alice, _ = two_users(chat_server, tmp_path)

    async def scenario() -> None:
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            status = text_of(status_line(app.view))
            assert alice in status and f"127.0.0.1:{chat_server.port}" in status
            assert "connected" in status
            keys.send_text(f"/send Client-999999 hello?{ENTER}")
            await eventually(lambda: "no such user" in text_of(status_line(app.view)),
                             "the error in words")
            chat_server.stop()
            await eventually(lambda: "reconnecting" in text_of(status_line(app.view)),
                             "reconnecting in the status bar")
            chat_server.start()
            await until(app.session, lambda: app.session.logged_in)
            assert " connected " in text_of(status_line(app.view))

    run(scenario)


def test_ui_register_on_first_run(chat_server: ChatServer, tmp_path: Path) -> None:
    """With no stored account, /register shows the new id and stores it privately."""
    data = tmp_path / "fresh"

    async def scenario() -> None:
        with create_pipe_input() as keys:
            session = Session(data, "127.0.0.1", chat_server.port)
            app = ChatApp(session, input=keys, output=SizedOutput(), timeout=GUARD)
            task = asyncio.create_task(app.run())
            await eventually(lambda: "Welcome" in lines_text(chat_lines(app.view)),
                             "the welcome text")
            keys.send_text("/register" + ENTER)
            await until(session, lambda: session.logged_in)
            me = session.me
            assert me is not None and (data / me / "account.json").is_file()
            assert f"Registered as {me}" in lines_text(chat_lines(app.view))
            assert me in text_of(status_line(app.view))
            keys.send_text("/quit" + ENTER)
            assert await asyncio.wait_for(task, GUARD) == 0

    run(scenario)


def test_ui_group_shows_authors(chat_server: ChatServer, tmp_path: Path) -> None:
    """A group appears in the list; its messages show who wrote them."""
    data, alice, bob = two_users(chat_server, tmp_path)
    carol = register(chat_server.port, data)

    async def scenario() -> None:
        b, b_task = await online(data, chat_server.port, bob)
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            keys.send_text(f"/add {bob} bob{ENTER}")
            await eventually(lambda: app.session.state.resolve("bob") == bob, "the alias")
            group = await asyncio.wait_for(b.create_group((alice, carol)), GUARD)
            assert group is not None
            b.send_text(group, "hi all")
            await eventually(lambda: "(1)" in text_of(conversation_list(app.view)),
                             "the group's unread count")
            assert f"# {group}" in text_of(conversation_list(app.view))
            keys.send_text(CTRL_N)
            await eventually(lambda: app.session.open_peer == group, "the group to open")
            assert "bob: hi all" in lines_text(chat_lines(app.view))
            assert f"(bob, you, {carol})" in text_of(chat_title(app.view))
        await offline(b, b_task)

    run(scenario)
