"""The input line and what answers it: kept lines, panels, status notes, completion.

Offline where no server is needed (a stored account, nothing dials); a real
server where a command must be sent and refused.
"""

from __future__ import annotations

from pathlib import Path

from clientkit import ChatServer, register, run
from prompt_toolkit.input import PipeInput
from uikit import (
    BOB,
    CAROL,
    CTRL_N,
    ENTER,
    ESC,
    ME,
    PAGE_DOWN,
    TAB,
    chat_app,
    eventually,
    offline_app,
    offline_session,
    receive,
    screen,
    text_of,
)

from interzap_client.ui.app import ChatApp
from interzap_client.ui.layout import status_line

T0 = 1_764_000_000
GROUP = "Group-0000001"


def status(app: ChatApp) -> str:
    return text_of(status_line(app.view))


async def enter(app: ChatApp, keys: PipeInput, line: str, typed: bool = True) -> None:
    """Type `line` (or, not `typed`, put it there: a pasted one) and Enter; wait until it
    was taken (the input cleared, or an error came)."""
    app.input.text = "" if typed else line
    keys.send_text(line if typed else "")
    await eventually(lambda: app.input.text == line, f"{line!r} typed")
    errors = app.session.errors
    keys.send_text(ENTER)
    await eventually(lambda: app.input.text != line or app.session.errors > errors,
                     f"{line!r} run")


def test_ui_failed_line_is_kept(chat_server: ChatServer, tmp_path: Path) -> None:
    """Whatever made a command fail, its line stays to be corrected; a good one is cleared."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    failing = [
        "hello",  # no open conversation
        "/open nobody",  # unknown alias
        "/send nobody hi",
        "/frobnicate",  # unknown command
        f"/open {bob} extra",  # a usage error
    ]

    async def scenario() -> None:
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            for line in failing:
                await enter(app, keys, line)
                assert app.input.text == line
            await enter(app, keys, f"/open {bob}")
            assert app.input.text == "" and app.session.open_peer == bob
            for line in ["x" * 300, "a\x07bell"]:  # too long; a control character
                await enter(app, keys, line, typed=False)
                assert app.input.text == line
            app.input.text = ""
            keys.send_text("/group Client-999998 Client-999997" + ENTER)  # the server says no
            await eventually(lambda: app.input.text != "", "the line back after the 13")
            assert app.input.text == "/group Client-999998 Client-999997"

    run(scenario)


def test_ui_help_and_contacts_leave_the_chat_open(tmp_path: Path) -> None:
    """/help and /contacts open a panel over the chat; Esc or the next command closes it,
    and the chat is still the open one."""
    session = offline_session(tmp_path)
    receive(session, BOB, "hello", T0)

    async def scenario() -> None:
        async with offline_app(session, 60, 16) as (app, keys):
            keys.send_text(CTRL_N)
            await eventually(lambda: session.open_peer == BOB, "the chat to open")
            keys.send_text("/help" + ENTER)
            await eventually(lambda: "help · Esc closes" in screen(app, 60, 16)[0], "help")
            assert "/contacts" in "".join(screen(app, 60, 16))
            keys.send_text(ESC)
            await eventually(lambda: BOB in screen(app, 60, 16)[0], "the chat again")
            keys.send_text("/contacts" + ENTER)
            await eventually(lambda: "contacts · Esc closes" in screen(app, 60, 16)[0],
                             "contacts")
            errors = session.errors
            await enter(app, keys, "/read")  # needs an open chat
            assert session.errors == errors and session.open_peer == BOB
            assert "hello" in "".join(screen(app, 60, 16))

    run(scenario)


def test_ui_panel_pages_in_a_small_window(tmp_path: Path) -> None:
    """A panel longer than the window says there is more, and PageDown shows the rest."""

    async def scenario() -> None:
        async with offline_app(offline_session(tmp_path), 35, 10) as (app, keys):
            keys.send_text("/help" + ENTER)
            await eventually(lambda: "more: PageDown" in "".join(screen(app, 35, 10)), "more")
            assert "unselects" not in "".join(screen(app, 35, 10))
            keys.send_text(PAGE_DOWN * 30)
            await eventually(lambda: "unselects" in "".join(screen(app, 35, 10)),
                             "the last lines")

    run(scenario)


def test_ui_contacts_names_groups_and_you(tmp_path: Path) -> None:
    """/contacts shows each alias with its id, and a group's alias and members, you as "you"."""
    session = offline_session(tmp_path)
    assert session.history is not None
    session.history.apply("group", group=GROUP, ts=T0, members=[BOB, ME, CAROL])
    session.history.apply("alias", ident=BOB, alias="bob")
    session.history.apply("alias", ident=GROUP, alias="team")

    async def scenario() -> None:
        async with offline_app(session, 80, 12) as (app, keys):
            keys.send_text("/contacts" + ENTER)
            await eventually(lambda: CAROL in "".join(screen(app, 80, 12)), "the contacts")
            shown = "\n".join(screen(app, 80, 12))
            assert "bob (Client-000002)" in shown
            assert f"# team ({GROUP}): bob, you, {CAROL}" in shown
            assert ME not in shown.split("│")[0]  # nowhere but the status bar

    run(scenario)


def test_ui_contacts_marks_whom_you_block(tmp_path: Path) -> None:
    """/contacts says "(blocked)" after a contact you block, as the server's last 19 said."""
    session = offline_session(tmp_path)
    assert session.history is not None
    session.history.apply("alias", ident=BOB, alias="bob")
    session.history.apply("alias", ident=CAROL)
    session.history.apply("blocks", users=[BOB])

    async def scenario() -> None:
        async with offline_app(session, 80, 12) as (app, keys):
            keys.send_text("/contacts" + ENTER)
            await eventually(lambda: CAROL in "".join(screen(app, 80, 12)), "the contacts")
            shown = "\n".join(screen(app, 80, 12))
            assert "bob (Client-000002) (blocked)" in shown
            assert f"{CAROL} (blocked)" not in shown

    run(scenario)


def test_ui_add_and_export_confirm_with_a_chat_open(tmp_path: Path) -> None:
    """/add and /export say they are done in the status bar, also while a chat is open."""
    session = offline_session(tmp_path)
    receive(session, BOB, "hello", T0)

    async def scenario() -> None:
        async with offline_app(session) as (app, keys):
            keys.send_text(CTRL_N)
            await eventually(lambda: session.open_peer == BOB, "the chat to open")
            await enter(app, keys, f"/add {CAROL} carol")
            assert f"added carol ({CAROL})" in status(app)
            await enter(app, keys, f"/export {tmp_path / 'out.json'}")
            assert "history exported to" in status(app)

    run(scenario)


def test_ui_error_goes_with_the_next_command(tmp_path: Path) -> None:
    """An error leaves the status bar when the next command succeeds."""

    async def scenario() -> None:
        async with offline_app(offline_session(tmp_path)) as (app, keys):
            await enter(app, keys, "hello")
            assert "no open conversation" in status(app)
            await enter(app, keys, f"/add {BOB} bob")
            assert "no open conversation" not in status(app)

    run(scenario)


def test_ui_error_goes_after_a_while(tmp_path: Path) -> None:
    """An error leaves the status bar by itself after note_seconds (half a second: long
    enough for the error to be seen first even on a loaded machine, where 0.05 s was not)."""

    async def scenario() -> None:
        async with offline_app(offline_session(tmp_path)) as (app, keys):
            app.note_seconds = 0.5
            await enter(app, keys, "hello")
            assert "no open conversation" in status(app)
            await eventually(lambda: "no open conversation" not in status(app),
                             "the error to go")

    run(scenario)


def test_ui_tab_completes_with_a_blank_then_names(tmp_path: Path) -> None:
    """Tab completes a command with a blank after it, then aliases, ids and groups."""
    session = offline_session(tmp_path)
    assert session.history is not None
    session.history.apply("alias", ident=BOB, alias="bobby")
    session.history.apply("group", group=GROUP, ts=T0, members=[ME, BOB, CAROL])

    async def scenario() -> None:
        async with offline_app(session) as (app, keys):
            keys.send_text("/op" + TAB)
            await eventually(lambda: app.input.text == "/open ", "the command completed")
            keys.send_text("ca")
            await eventually(lambda: app.input.text == "/open ca", "typing on")
            app.input.text = ""
            keys.send_text("/open bo" + TAB)
            await eventually(lambda: app.input.text == "/open bobby", "the alias")
            app.input.text = ""
            keys.send_text("/send Gr" + TAB)
            await eventually(lambda: app.input.text == f"/send {GROUP} ", "the group")
            app.input.text = ""
            keys.send_text("/open Client-0000" + TAB)  # two ids: their common part, a menu
            await eventually(lambda: app.input.buffer.complete_state is not None, "a menu")
            menu = app.input.buffer.complete_state.completions
            assert app.input.text == "/open Client-00000"
            assert {c.display_text for c in menu} == {BOB, CAROL}

    run(scenario)
