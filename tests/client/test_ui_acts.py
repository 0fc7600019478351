"""The full-screen chat with replies, edits, deletions and reactions, read back from the drawn
screen (offline: a stored account with acts put into its history), and choosing a message
with the keys."""

from __future__ import annotations

from pathlib import Path

from clientkit import run
from uikit import (
    BOB,
    CAROL,
    CTRL_N,
    ENTER,
    ESC,
    ME,
    eventually,
    offline_app,
    offline_session,
    screen,
)

from interzap_client import intents
from interzap_client.conversations import Tick
from interzap_client.session import Session
from interzap_client.targets import choose
from interzap_client.ui.app import ChatApp
from shared.codes import TOMBSTONE, ActKind

T0 = 1_764_000_000
THUMBS = "\U0001f44d"
SHIFT_UP, SHIFT_DOWN = "\x1b[1;2A", "\x1b[1;2B"


def screen_of(app: ChatApp) -> list[str]:
    return screen(app, 80, 24)


def acted_chat(root: Path) -> Session:
    """Bob's chat: his question, our answer quoting it (reacted to twice), an edited message
    of his, a deleted one, and his reply to a message we never had."""
    session = offline_session(root)
    history = session.history
    assert history is not None
    history.apply("msg", src=BOB, dst=ME, ts=T0, text="lunch at noon?")
    history.apply("msg", src=ME, dst=BOB, ts=T0 + 1, text="sure", tick=int(Tick.READ),
                  reply=[BOB, T0])
    history.apply("act", src=BOB, dst=ME, ts=T0 + 2, kind="X", ref_src=ME, ref_ts=T0 + 1,
                  text=THUMBS)
    history.apply("act", src=CAROL, dst=ME, ts=T0 + 2, kind="X", ref_src=ME, ref_ts=T0 + 1,
                  text=THUMBS)  # not in this chat: Carol's act is about her own chat
    history.apply("msg", src=BOB, dst=ME, ts=T0 + 3, text="at the cafe")
    history.apply("act", src=BOB, dst=ME, ts=T0 + 4, kind="E", ref_src=BOB, ref_ts=T0 + 3,
                  text="at the park")
    history.apply("msg", src=BOB, dst=ME, ts=T0 + 5, text="oops secret")
    history.apply("act", src=BOB, dst=ME, ts=T0 + 6, kind="D", ref_src=BOB, ref_ts=T0 + 5,
                  text="")
    history.apply("msg", src=BOB, dst=ME, ts=T0 + 7, text="and this?", reply=[ME, 42])
    return session


def test_ui_acts_shown_in_the_chat(tmp_path: Path) -> None:
    """The quote above a reply (or that its original is missing), "edited", the tombstone in
    place of a deleted text, and reactions with their counts under the message."""
    session = acted_chat(tmp_path)

    async def scenario() -> None:
        async with offline_app(session, 80, 24) as (app, keys):
            keys.send_text(CTRL_N)
            await eventually(lambda: "at the park" in "\n".join(screen_of(app)), "the chat")
            shown = "\n".join(screen_of(app))
            assert "┌ Client-000002: lunch at noon?" in shown
            assert "you: sure" in shown
            assert f"{THUMBS} 1" in shown
            assert "at the park (edited)" in shown and "at the cafe" not in shown
            assert TOMBSTONE in shown and "secret" not in shown
            assert "┌ a message you do not have" in shown

    run(scenario)


def test_ui_acts_keys_choose_the_message(tmp_path: Path) -> None:
    """Shift-Up selects the newest message, again the one before; commands without a REF act
    on it; /reactions shows who reacted in a panel; Esc closes it, then unselects."""
    session = acted_chat(tmp_path)

    async def scenario() -> None:
        async with offline_app(session, 80, 24) as (app, keys):
            keys.send_text(CTRL_N)
            await eventually(lambda: session.open_peer == BOB, "the chat to open")
            keys.send_text(SHIFT_UP * 4)
            await eventually(lambda: session.selected == (ME, BOB, T0 + 1), "a selection")
            assert choose(session, intents.Reactions(None)).text == "sure"
            keys.send_text(SHIFT_DOWN + SHIFT_UP)
            keys.send_text("/reactions" + ENTER)
            await eventually(lambda: "reactions" in "\n".join(screen_of(app)), "the panel")
            assert f"{THUMBS} Client-000002" in "\n".join(screen_of(app))
            keys.send_text(ESC)
            await eventually(lambda: app.view.panel is None, "the panel to close")
            keys.send_text(ESC)
            await eventually(lambda: session.selected is None, "no selection")
            newest = choose(session, intents.ActOn(ActKind.EDIT, None, "x"))
            assert newest.ts == T0 + 1  # our newest

    run(scenario)


def test_ui_acts_selection_scrolls_into_view(tmp_path: Path) -> None:
    """Selecting a message older than the screen scrolls the chat back to it."""
    session = offline_session(tmp_path)
    assert session.history is not None
    for i in range(40):
        session.history.apply("msg", src=BOB, dst=ME, ts=T0 + i, text=f"message {i}")

    async def scenario() -> None:
        async with offline_app(session, 80, 12) as (app, keys):
            keys.send_text(CTRL_N)
            await eventually(lambda: "message 39" in "\n".join(screen_of(app)), "the chat")
            keys.send_text(SHIFT_UP * 30)
            await eventually(lambda: session.selected == (BOB, ME, T0 + 10), "the selection")
            await eventually(lambda: "message 10" in "\n".join(screen_of(app)), "scrolled")
            assert "message 39" not in "\n".join(screen_of(app))

    run(scenario)
