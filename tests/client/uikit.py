"""Helpers for the full-screen UI tests: the app driven by keys, and its screen read back.

Keys go in through prompt_toolkit's pipe input; the screen is drawn at a
chosen size the way the renderer draws it (the layout written to a Screen)
and read back as lines of text, so a test sees what a person would. An
offline app runs with a stored account and no server: nothing dials until a
login is asked for. Waits poll a condition; their deadline is only a guard.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from clientkit import GUARD, until
from prompt_toolkit.application.current import set_app
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.layout.mouse_handlers import MouseHandlers
from prompt_toolkit.layout.screen import Screen, WritePosition
from prompt_toolkit.output import DummyOutput

from interzap_client.session import Session
from interzap_client.ui.app import ChatApp
from interzap_client.ui.pager import Line

CTRL_N, CTRL_C, TAB, ENTER, ESC = "\x0e", "\x03", "\t", "\r", "\x1b"
PAGE_UP, PAGE_DOWN = "\x1b[5~", "\x1b[6~"
ME, BOB, CAROL = "Client-000001", "Client-000002", "Client-000003"


class SizedOutput(DummyOutput):
    """A dummy terminal of a size the test chooses, which counts bells."""

    def __init__(self, columns: int = 80, rows: int = 24) -> None:
        super().__init__()
        self.size = Size(rows=rows, columns=columns)
        self.bells = 0

    def get_size(self) -> Size:
        return self.size

    def bell(self) -> None:
        self.bells += 1


def text_of(fragments: list[Any]) -> str:
    return "".join(fragment[1] for fragment in fragments)


def lines_text(lines: list[Line]) -> str:
    """Lines as the pane holds them, one text line each."""
    return "\n".join(text_of(line) for line in lines)


def screen(app: ChatApp, columns: int, rows: int) -> list[str]:
    """The whole screen at this size, as the renderer would draw it: one string a row."""
    output = app.app.output
    assert isinstance(output, SizedOutput)
    output.size = Size(rows=rows, columns=columns)
    drawn = Screen()
    app.app.render_counter += 1  # a new paint: controls do not reuse the last one's text
    with set_app(app.app):
        app.app.layout.container.write_to_screen(
            drawn, MouseHandlers(), WritePosition(xpos=0, ypos=0, width=columns, height=rows),
            parent_style="", erase_bg=False, z_index=None)
        drawn.draw_all_floats()
    return ["".join(drawn.data_buffer[y][x].char for x in range(columns)).rstrip()
            for y in range(rows)]


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    """Wait until `predicate` holds; the deadline is only a guard."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)  # let the app process keys and frames, then look again


def offline_session(root: Path, me: str = ME) -> Session:
    """A session with `me`'s (new) state and history, and no server."""
    session = Session(root, "127.0.0.1", 9)
    session.use_account(me)
    return session


def receive(session: Session, src: str, text: str, ts: int, dst: str = ME) -> None:
    """A message from `src` stored as if it had arrived."""
    assert session.history is not None
    session.history.apply("msg", src=src, dst=dst, ts=ts, text=text)
    session.touch()


@asynccontextmanager
async def running(app: ChatApp, keys: PipeInput) -> AsyncIterator[None]:
    """`app` running until the end of the block, then left with Ctrl-C."""
    task = asyncio.create_task(app.run())
    await eventually(lambda: app.app.is_running, "the app to start")
    try:
        yield
    finally:
        keys.send_text(CTRL_C)
        assert await asyncio.wait_for(task, GUARD) == 0


@asynccontextmanager
async def offline_app(session: Session, columns: int = 80,
                      rows: int = 24) -> AsyncIterator[tuple[ChatApp, PipeInput]]:
    """A ChatApp on an offline session, reading keys from a pipe."""
    with create_pipe_input() as keys:
        app = ChatApp(session, input=keys, output=SizedOutput(columns, rows), timeout=GUARD)
        async with running(app, keys):
            yield app, keys


@asynccontextmanager
async def chat_app(data: Path, port: int, me: str) -> AsyncIterator[tuple[ChatApp, PipeInput]]:
    """A ChatApp logged in as `me` on a real server, reading keys from a pipe."""
    with create_pipe_input() as keys:
        session = Session(data, "127.0.0.1", port)
        app = ChatApp(session, account=me, input=keys, output=SizedOutput(), timeout=GUARD)
        async with running(app, keys):
            await until(session, lambda: session.logged_in)
            yield app, keys
