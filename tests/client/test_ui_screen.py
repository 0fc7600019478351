"""What the full-screen client shows at a given size, read back from the drawn screen.

Offline: a stored account with messages put into its history, no server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from clientkit import run
from prompt_toolkit.input import PipeInput
from uikit import (
    BOB,
    CAROL,
    CTRL_N,
    ENTER,
    ME,
    PAGE_DOWN,
    PAGE_UP,
    eventually,
    offline_app,
    offline_session,
    receive,
    screen,
)

from interzap_client.conversations import Tick
from interzap_client.session import Session
from interzap_client.ui.app import ChatApp

T0 = 1_764_000_000


def chat_with_bob(root: Path, count: int, text: str = "message {i}") -> Session:
    session = offline_session(root)
    for i in range(count):
        receive(session, BOB, text.format(i=i), T0 + i)
    return session


@asynccontextmanager
async def bob_open(session: Session, columns: int,
                   rows: int) -> AsyncIterator[tuple[ChatApp, PipeInput]]:
    """An offline app with the chat with bob open (Ctrl-N: the only one)."""
    async with offline_app(session, columns, rows) as (app, keys):
        keys.send_text(CTRL_N)
        await eventually(lambda: session.open_peer == BOB, "the chat to open")
        yield app, keys


def test_ui_prompt_comes_back_after_a_long_line(tmp_path: Path) -> None:
    """After a line wider than the window is sent, the next line starts with the prompt."""

    async def scenario() -> None:
        async with offline_app(offline_session(tmp_path), 35, 10) as (app, keys):
            line = f"/add {BOB} " + "x" * 30
            keys.send_text(line)
            await eventually(lambda: app.input.text == line, "the long line typed")
            assert screen(app, 35, 10)[-1].endswith("x" * 10)  # scrolled to its end
            keys.send_text(ENTER)
            await eventually(lambda: app.input.text == "", "the line sent")
            assert screen(app, 35, 10)[-1] == ">"
            keys.send_text("hi")
            await eventually(lambda: app.input.text == "hi", "the next line")
            assert screen(app, 35, 10)[-1] == "> hi"

    run(scenario)


def test_ui_small_window_is_all_chat(tmp_path: Path) -> None:
    """Below 50 columns the list is hidden (the title says what waits elsewhere); wider,
    it takes about a third, at most 30 columns."""

    async def scenario() -> None:
        session = chat_with_bob(tmp_path, 3, "a message long enough to need the width {i}")
        async with bob_open(session, 35, 10) as (app, _):
            small = screen(app, 35, 10)
            assert small[0] == BOB and "│" not in "".join(small[:-2])
            assert max(len(row) for row in small[1:-2]) > 30
            assert small[-2] == " offline │"  # the connection first: no room for id and server
            assert screen(app, 60, 10)[0].index("│") == 20
            assert screen(app, 80, 10)[0].index("│") == 24
            assert screen(app, 120, 10)[0].index("│") == 30
            receive(session, CAROL, "psst", T0 + 10)
            assert screen(app, 35, 10)[0] == f"{BOB}  1 unread elsewhere"
            assert screen(app, 80, 10)[0].endswith(BOB)  # the list shows it

    run(scenario)


def test_ui_newest_lines_stay_at_the_bottom(tmp_path: Path) -> None:
    """With more lines than rows, the newest message is on the last row, none blank below."""

    async def scenario() -> None:
        session = chat_with_bob(tmp_path, 30, "message {i} " + "and more words " * 4)
        async with bob_open(session, 80, 12) as (app, _):
            for columns in (35, 80, 50, 80):  # a narrow paint first must not leave its mark
                rows = screen(app, columns, 12)
                body = rows[1:-2]
                assert all(body), rows
                assert "message 29" in " ".join(body[-4:]), rows
                assert body[-1].endswith("words"), rows

    run(scenario)


def test_ui_wraps_between_words(tmp_path: Path) -> None:
    """A message wider than the pane is cut between words: "résumé" stays whole, and the
    ticks stay with the last word."""

    async def scenario() -> None:
        session = chat_with_bob(tmp_path, 1, "here is my résumé and my letter")
        assert session.history is not None
        session.history.apply("msg", src=ME, dst=BOB, ts=T0 + 1, text="thanks, I will read it",
                              tick=int(Tick.ACCEPTED))
        async with bob_open(session, 35, 10) as (app, _):
            for columns in range(20, 81):
                rows = screen(app, columns, 10)
                assert any("résumé" in row for row in rows), (columns, rows)
                assert not any(row.strip() == "✓" for row in rows), (columns, rows)

    run(scenario)


def test_ui_paging_every_key_counts_and_the_title_stays(tmp_path: Path) -> None:
    """Each PageUp / PageDown moves the chat, whichever way the last went; the title stays
    on top, and a mark says newer messages are below."""

    async def scenario() -> None:
        session = chat_with_bob(tmp_path, 60)
        async with bob_open(session, 40, 12) as (app, keys):
            shown = [screen(app, 40, 12)]
            for key in (PAGE_UP, PAGE_DOWN, PAGE_UP, PAGE_UP, PAGE_DOWN):
                keys.send_text(key)
                await eventually(lambda: screen(app, 40, 12) != shown[-1], f"{key!r} to move")
                shown.append(screen(app, 40, 12))
            assert all(rows[0] == BOB for rows in shown)
            newest, back, forward = shown[0], shown[1], shown[2]
            assert "message 59" in newest[-3] and "below" not in "".join(newest)
            assert "newer messages below" in back[-3] and "message 59" not in "".join(back)
            assert forward == newest

    run(scenario)


def test_ui_list_leaves_out_chats_that_never_had_a_message(tmp_path: Path) -> None:
    """A refused /send to an unknown id, or an id opened and left, is not listed; groups are."""

    async def scenario() -> None:
        session = chat_with_bob(tmp_path, 1)
        history = session.history
        assert history is not None
        history.apply("msg", src=ME, dst="Client-000098", ts=T0 + 5, text="hi?",
                      tick=int(Tick.PENDING))
        history.apply("tick", dst="Client-000098", ts=T0 + 5, tick=int(Tick.FAILED))
        history.apply("group", group="Group-0000001", ts=T0 + 6, members=[BOB, ME])
        async with offline_app(session, 80, 12) as (app, keys):
            keys.send_text("/open Client-000099" + ENTER)
            await eventually(lambda: session.open_peer == "Client-000099", "the empty chat")
            assert "Client-000099" in "".join(screen(app, 80, 12))
            keys.send_text(CTRL_N)
            await eventually(lambda: session.open_peer != "Client-000099", "the next chat")
            listed = "\n".join(row[:24] for row in screen(app, 80, 12))
            assert BOB in listed and "Group-0000001" in listed
            assert "Client-000098" not in listed and "Client-000099" not in listed
            seen = set()
            for _ in range(4):
                seen.add(session.open_peer)
                keys.send_text(CTRL_N)
                await eventually(lambda: session.open_peer not in seen or len(seen) == 2,
                                 "Ctrl-N to move on")
            assert seen == {BOB, "Group-0000001"}

    run(scenario)
