"""Typing and presence on the client: the in-memory state with a driven clock, its words,
the chat header of the full-screen UI, and the 27 a keystroke sends (over a real server)."""

from __future__ import annotations

import time
from pathlib import Path

from clientkit import ChatServer, offline, online, register, run, until
from uikit import BOB, CAROL, ME, chat_app, eventually, offline_app, screen, text_of

from interzap_client.presence import (
    TYPING_EVERY,
    TYPING_SHOWN,
    Presence,
    presence_words,
    receipt_words,
    typing_words,
)
from interzap_client.session import Session
from interzap_client.ui.layout import chat_title
from interzap_client.ui.view import View
from shared import events as ev

T0 = 1_764_000_000.0
GROUP = "Group-0000001"


def test_presence_typing_expires_and_ends_with_the_message() -> None:
    """A typing notice lasts TYPING_SHOWN after the last 27; a message from its author ends
    it at once; typists are listed in the order first heard."""
    p = Presence()
    p.heard_typing(BOB, GROUP, T0)
    p.heard_typing(CAROL, GROUP, T0 + 1)
    assert p.typists(GROUP, T0 + 2) == [BOB, CAROL]
    assert p.next_expiry(T0 + 2) == T0 + TYPING_SHOWN
    assert p.typists(GROUP, T0 + TYPING_SHOWN) == [CAROL]
    assert p.heard_message(CAROL, GROUP) and not p.heard_message(CAROL, GROUP)
    assert p.typists(GROUP, T0 + TYPING_SHOWN) == []
    assert p.next_expiry(T0) is None


def test_presence_sends_typing_at_most_every_interval() -> None:
    """One 27 per chat per TYPING_EVERY seconds; a sent message lets the next one go at once."""
    p = Presence()
    assert p.may_send_typing(BOB, T0)
    assert not p.may_send_typing(BOB, T0 + TYPING_EVERY - 0.1)
    assert p.may_send_typing(GROUP, T0 + 1)  # another chat
    assert p.may_send_typing(BOB, T0 + TYPING_EVERY)
    p.stopped_typing(BOB)
    assert p.may_send_typing(BOB, T0 + TYPING_EVERY + 0.5)


def test_presence_words() -> None:
    """online, last seen HH:MM today, with the date another day; nothing when hidden."""
    gm = time.gmtime
    now = 1_764_000_000  # 2025-11-24 16:00 UTC
    assert presence_words(ev.ONLINE, now, gm) == "online"
    assert presence_words(now - 3600, now, gm) == "last seen 15:00"
    assert presence_words(now - 86_400, now, gm) == "last seen 2025-11-23 16:00"
    assert presence_words(ev.HIDDEN, now, gm) is None
    assert presence_words(None, now, gm) is None
    assert typing_words([]) is None
    assert typing_words(["bob"]) == "bob is typing…"
    assert typing_words(["bob", "carol"]) == "bob, carol are typing…"
    assert receipt_words("bob", 0, 0, gm) == "bob: not delivered yet"
    assert receipt_words("bob", now, 0, gm) == "bob: delivered 2025-11-24 16:00, not read yet"
    assert receipt_words("bob", now, now + 60, gm) == (
        "bob: read 2025-11-24 16:01 (delivered 2025-11-24 16:00)")


def clocked_session(root: Path, clock: list[float]) -> Session:
    """An offline session whose clock is clock[0], with bob and carol as contacts, a chat
    with bob and a group with both."""
    session = Session(root, "127.0.0.1", 9, clock=lambda: clock[0])
    session.use_account(ME)
    session.add_contact(BOB, "bob")
    session.add_contact(CAROL, "carol")
    history = session.need_history()
    history.apply("msg", src=BOB, dst=ME, ts=int(T0), text="hi")
    history.apply("group", group=GROUP, ts=int(T0), members=[ME, BOB, CAROL])
    return session


def header(session: Session) -> str:
    """The chat's title row as the layout writes it."""
    return text_of(list(chat_title(View(session))))


def test_ui_header_says_who_types_then_presence(tmp_path: Path) -> None:
    """1:1: "bob is typing…" until TYPING_SHOWN passes (the clock driven, no sleep), then
    "online" or "last seen"; a group: "bob, carol are typing…", and no presence."""
    clock = [T0]

    async def scenario() -> None:
        session = clocked_session(tmp_path, clock)
        async with offline_app(session, 80, 10) as (app, _):
            session.open(BOB)
            session.live.heard_presence(ev.Presence(BOB, ev.ONLINE))
            assert header(session) == "bob  online"
            session.live.typing(ev.Typing(BOB, ME))
            await eventually(lambda: "bob is typing…" in screen(app, 80, 10)[0], "typing")
            clock[0] += TYPING_SHOWN
            await eventually(lambda: "bob  online" in screen(app, 80, 10)[0], "it gone")
            session.live.heard_presence(ev.Presence(BOB, int(clock[0]) - 60))
            assert header(session) == "bob  last seen " + time.strftime(
                "%H:%M", time.localtime(clock[0] - 60))
            session.live.heard_presence(ev.Presence(BOB, ev.HIDDEN))
            assert header(session) == "bob"
            session.open(GROUP)
            session.live.typing(ev.Typing(BOB, GROUP))
            session.live.typing(ev.Typing(CAROL, GROUP))
            assert header(session).endswith("  bob, carol are typing…")
            session.live.message(BOB, GROUP)
            assert header(session).endswith("  carol is typing…")

    run(scenario)


def test_ui_keystroke_sends_typing_and_the_message_ends_it(chat_server: ChatServer,
                                                           tmp_path: Path) -> None:
    """Typing a message in the open chat tells the peer (27): their header says so, and
    the message, once sent, ends it; the first message between them lets each see the
    other's presence."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)

    async def scenario() -> None:
        b, b_task = await online(data, chat_server.port, bob)
        b.open(alice)
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            keys.send_text(f"/open {bob}\r")
            await eventually(lambda: app.session.open_peer == bob, "the chat to open")
            await until(b, lambda: b.live.presence.typists(alice, b.clock()) == [])
            keys.send_text("hel")
            await until(b, lambda: b.live.presence.typists(alice, b.clock()) == [alice])
            keys.send_text("lo\r")
            await until(b, lambda: b.received == 1)
            assert b.live.presence.typists(alice, b.clock()) == []
            # bob saw alice hidden (no chat yet): her first message makes him ask again
            await until(b, lambda: b.live.presence.seen.get(alice) == ev.ONLINE)
            seen = app.session.live.presence.seen
            assert seen.get(bob) == ev.HIDDEN  # asked at /open: no chat shared yet
            app.session.open(bob)  # again, now that they share one
            await until(app.session, lambda: seen.get(bob) == ev.ONLINE)
        await offline(b, b_task)

    run(scenario)


def test_ui_info_answer_opens_a_panel(tmp_path: Path) -> None:
    """A 26 about our group message shows a panel: the message, then each member's state
    in words, aliases used."""
    clock = [T0]

    async def scenario() -> None:
        session = clocked_session(tmp_path, clock)
        session.need_history().apply("msg", src=ME, dst=GROUP, ts=int(T0) + 1,
                                     text="lunch?", tick=1)
        async with offline_app(session, 80, 12) as (app, _):
            session.open(GROUP)
            session.live.info_answer(ev.InfoAnswer(GROUP, int(T0) + 1, (
                (BOB, int(T0) + 5, int(T0) + 65), (CAROL, 0, 0))))
            await eventually(lambda: "info · Esc closes" in screen(app, 80, 12)[0], "panel")
            shown = "\n".join(screen(app, 80, 12))
            assert "lunch?" in shown
            assert "bob: read " + time.strftime("%Y-%m-%d %H:%M", time.localtime(T0 + 65)) \
                in shown
            assert "carol: not delivered yet" in shown

    run(scenario)
