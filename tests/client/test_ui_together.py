"""The full-screen client where names meet typing, presence, /info, reactions, /search and
group changes: with display names only (no alias), every line says the name, never the id;
the /info panel shows the message as the chat does (its newest text, or the tombstone)."""

from __future__ import annotations

import time
from pathlib import Path

from clientkit import run
from test_presence import GROUP, T0, header
from uikit import BOB, CAROL, ENTER, ME, eventually, offline_app, screen

from interzap_client import intents
from interzap_client.session import Session
from interzap_client.ui.pager import Line
from interzap_client.ui.panels import results_panel
from shared import events as ev
from shared.codes import TOMBSTONE, ActKind, GroupOp

DAVE = "Client-000004"
THUMBS = "\U0001f44d"


def named_session(root: Path, clock: list[float]) -> Session:
    """An offline session whose contacts have display names and no alias: a chat with
    Bobby, a group with Bobby and Carla to which Bobby added Dave, our message there."""
    session = Session(root, "127.0.0.1", 9, clock=lambda: clock[0])
    session.use_account(ME)
    history = session.need_history()
    ts = int(T0)
    for user, name in ((BOB, "Bobby"), (CAROL, "Carla"), (DAVE, "Dave D")):
        history.apply("named", user=user, name=name)
    history.apply("msg", src=BOB, dst=ME, ts=ts, text="hi")
    history.apply("group", group=GROUP, ts=ts, members=[ME, BOB, CAROL])
    history.apply("group_event", group=GROUP, ts=ts, actor=BOB, op=str(GroupOp.ADD), arg=DAVE)
    history.apply("msg", src=ME, dst=GROUP, ts=ts + 1, text="lunch\u2028at one?", tick=1)
    history.apply("act", src=CAROL, dst=GROUP, ts=ts + 2, kind=str(ActKind.REACT),
                  ref_src=ME, ref_ts=ts + 1, text=THUMBS)
    return session


def panel_text(lines: tuple[Line, ...]) -> str:
    return "\n".join("".join(text for _, text, *_ in line) for line in lines)


def test_ui_names_in_header_typing_panels_and_changes(tmp_path: Path) -> None:
    clock = [T0 + 10]

    async def scenario() -> None:
        session = named_session(tmp_path, clock)
        async with offline_app(session, 100, 16) as (app, keys):
            session.open(BOB)
            session.live.heard_presence(ev.Presence(BOB, int(T0) - 60))
            assert header(session) == "Bobby  last seen " + time.strftime(
                "%H:%M", time.localtime(T0 - 60))
            session.live.typing(ev.Typing(BOB, ME))
            assert header(session) == "Bobby  Bobby is typing…"
            session.open(GROUP)
            session.live.typing(ev.Typing(CAROL, GROUP))
            assert header(session).endswith("  Carla is typing…")
            await eventually(lambda: any("── Bobby added Dave D ──" in row
                                         for row in screen(app, 100, 16)), "the change line")
            keys.send_text("/reactions" + ENTER)
            await eventually(lambda: f"{THUMBS} Carla" in "\n".join(screen(app, 100, 16)),
                             "who reacted, by name")
            session.live.info_answer(ev.InfoAnswer(GROUP, int(T0) + 1, (
                (BOB, 0, 0), (CAROL, 0, 0))))
            await eventually(lambda: "info" in screen(app, 100, 16)[0], "the info panel")
            shown = "\n".join(screen(app, 100, 16))
            assert "Bobby: not delivered yet" in shown and "Carla: not delivered" in shown
            assert "lunch" in shown and "at one?" in shown
            session.need_history().apply("act", src=ME, dst=GROUP, ts=int(T0) + 3,
                                         kind=str(ActKind.DELETE), ref_src=ME,
                                         ref_ts=int(T0) + 1, text="", tick=1)
            session.live.info_answer(ev.InfoAnswer(GROUP, int(T0) + 1, ((BOB, 0, 0),)))
            await eventually(lambda: TOMBSTONE in "\n".join(screen(app, 100, 16)),
                             "the tombstone in the info panel")
            found = results_panel(session, intents.Search("hi", here=False))
            assert "Bobby: hi" in panel_text(found.lines)

    run(scenario)
