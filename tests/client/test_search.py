"""/search: what it finds (case, accents, every word, newest first, one chat), from the
history on disk after a restart, the results panel that opens a chat at a message, and the
scripted events.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from clientkit import GUARD, ChatServer, register, run, run_script
from uikit import BOB, CAROL, ENTER, ESC, ME, eventually, offline_app, offline_session, receive
from uikit import screen as drawn

from interzap_client import actions
from interzap_client import commands as cmd
from interzap_client.conversations import Tick
from interzap_client.notices import Notice
from interzap_client.search import MAX_HITS, SLICE, Finder, fold, spans
from interzap_client.session import Session
from interzap_client.state import State

T0 = 1_764_000_000
GROUP = "Group-0000001"
DOWN = "\x1b[B"


def texts(state: State, query: str, peer: str | None = None) -> list[str]:
    return [hit.message.text for hit in Finder().search(state, query, peer).hits]


def chats() -> State:
    state = State(ME)
    state.msg(BOB, ME, T0, "Let us meet at the Café Zürich")
    state.msg(ME, BOB, T0 + 10, "CAFE it is, at noon", tick=int(Tick.ACCEPTED))
    state.msg(CAROL, GROUP, T0 + 20, "the cafeteria is closed")
    state.msg(CAROL, ME, T0 + 5, "ﬁne, see you at the cafe")  # arrived late, written earlier
    return state


def test_fold_drops_case_accents_and_compatibility_forms() -> None:
    assert fold("Café ZÜRICH") == "cafe zurich"
    assert fold("ﬁne Straße") == "fine strasse"
    assert fold("Cafe\u0301") == "cafe"


def test_case_and_accents_do_not_matter_newest_first() -> None:
    """Found whatever the case or accents, in either; newest (by shown time) first."""
    state = chats()
    expected = ["the cafeteria is closed", "CAFE it is, at noon",
                "ﬁne, see you at the cafe", "Let us meet at the Café Zürich"]
    assert texts(state, "café") == expected
    assert texts(state, "CAFE") == expected
    assert texts(state, "zurich") == ["Let us meet at the Café Zürich"]
    assert texts(state, "FINE") == ["ﬁne, see you at the cafe"]


def test_every_word_must_be_there() -> None:
    state = chats()
    assert texts(state, "cafe at") == ["CAFE it is, at noon", "ﬁne, see you at the cafe",
                                       "Let us meet at the Café Zürich"]
    assert texts(state, "at zürich cafe") == ["Let us meet at the Café Zürich"]
    assert texts(state, "cafe nowhere") == []
    assert texts(state, "   ") == []


def test_one_chat_only() -> None:
    state = chats()
    assert texts(state, "cafe", BOB) == ["CAFE it is, at noon", "Let us meet at the Café Zürich"]
    assert texts(state, "cafe", GROUP) == ["the cafeteria is closed"]


def test_kept_up_to_date() -> None:
    """What arrives after a search is found by the next; an edited text is folded again."""
    state, finder = chats(), Finder()
    assert finder.search(state, "tea").total == 0
    state.msg(BOB, ME, T0 + 30, "TEA instead?")
    assert [h.message.text for h in finder.search(state, "tea").hits] == ["TEA instead?"]
    state.messages[(BOB, ME, T0 + 30)].text = "coffee then"
    assert finder.search(state, "coffee").total == 0  # not told: the copy is trusted
    finder.heard({"t": "edit"})  # a record that may change a text, as History tells it
    assert finder.search(state, "tea").total == 0
    assert finder.search(state, "coffee").total == 1
    other = State(ME)  # another account: its own messages only
    assert finder.search(other, "coffee").total == 0


def test_newest_hits_only_and_the_count() -> None:
    state = State(ME)
    for i in range(MAX_HITS + 5):
        state.msg(BOB, ME, T0 + i, f"ping {i}")
    found = Finder().search(state, "ping")
    assert found.total == MAX_HITS + 5 and len(found.hits) == MAX_HITS
    assert found.hits[0].message.text == f"ping {MAX_HITS + 4}"


@pytest.mark.parametrize(("text", "query", "where"), [
    ("Café Zürich", "cafe", [(0, 4)]),
    ("Cafe\u0301 noir", "CAFÉ", [(0, 5)]),  # the combining accent stays with its letter
    ("ﬁne fine", "fine", [(0, 3), (4, 8)]),  # ﬁ is one character, two folded
    ("abcabc", "bc ca", [(1, 6)]),  # overlapping matches merge
])
def test_spans_for_the_highlight(text: str, query: str, where: list[tuple[int, int]]) -> None:
    assert spans(text, query) == where


def test_finds_what_is_on_disk_after_a_restart(tmp_path: Path) -> None:
    """The history is read back from its file: a new session finds what an old one stored
    (a group's message says its group, as a message event does)."""
    first = offline_session(tmp_path)
    receive(first, BOB, "written before the restart", T0)
    receive(first, CAROL, "a group's, before the restart too", T0 + 1, dst=GROUP)
    run(first.close)
    again = offline_session(tmp_path)
    notices: list[Notice] = []
    again.subscribe(lambda n: notices.append(n) if n is not None else None)

    async def search() -> bool:
        return await actions.perform(again, cmd.parse("/search RESTART"), 1.0)

    assert run(search)
    found = [n for n in notices if n.event == "found"]
    assert [(n.peer, n.author, n.ts, n.group, n.text) for n in found] == [
        (GROUP, CAROL, T0 + 1, GROUP, "a group's, before the restart too"),
        (BOB, BOB, T0, None, "written before the restart")]
    assert [(n.count, n.text) for n in notices if n.event == "searched"] == [(2, "RESTART")]
    run(again.close)


def test_search_here_needs_an_open_chat(tmp_path: Path) -> None:
    session = offline_session(tmp_path)

    async def search() -> bool:
        return await actions.perform(session, cmd.parse("/search -here hello"), 1.0)

    assert not run(search) and session.errors == 1
    run(session.close)


def test_ui_result_opens_the_chat_at_the_message(tmp_path: Path) -> None:
    """The panel lists the results newest first; Down and Enter open the second one's chat,
    scrolled back to it (forty newer messages below); Esc closes a panel."""
    session = offline_session(tmp_path)
    receive(session, BOB, "the old Café we liked", T0)
    for i in range(40):
        receive(session, BOB, f"filler {i}", T0 + 100 + i)
    receive(session, CAROL, "a newer cafe", T0 + 200)

    async def scenario() -> None:
        async with offline_app(session, 80, 16) as (app, keys):
            keys.send_text("/search CAFE" + ENTER)
            await eventually(lambda: app.view.choosing, "the results")
            rows = drawn(app, 120, 16)
            newer = next(i for i, row in enumerate(rows) if "a newer cafe" in row)
            assert "the old Café we liked" in rows[newer + 1]  # newest first
            assert "2 found: CAFE" in "".join(rows)
            keys.send_text(DOWN)
            await eventually(lambda: app.view.chosen == 1, "the second chosen")
            keys.send_text(ENTER)
            await eventually(lambda: session.open_peer == BOB, "bob's chat open")
            assert app.view.panel is None and app.view.found == (BOB, ME, T0)
            shown = "\n".join(drawn(app, 80, 16))
            assert "the old Café we liked" in shown and "filler 39" not in shown
            assert "newer messages below" in shown
            keys.send_text("/search nothing like it" + ENTER)
            await eventually(lambda: app.view.panel is not None, "the empty result")
            assert "nothing found" in "".join(drawn(app, 80, 16))
            keys.send_text(ESC)
            await eventually(lambda: app.view.panel is None, "the panel closed")

    run(scenario)


def test_ui_highlights_the_match(tmp_path: Path) -> None:
    """The matching part of a result has the hit style."""
    session = offline_session(tmp_path)
    receive(session, BOB, "Grüße aus Zürich", T0)

    async def scenario() -> None:
        async with offline_app(session, 80, 16) as (app, keys):
            keys.send_text("/search zurich" + ENTER)
            await eventually(lambda: app.view.choosing, "the results")
            line = app.view.panel_lines()[0]
            assert [text for style, text, *_ in line if "class:hit" in style] == ["Zürich"]

    run(scenario)


def test_scripted_search_prints_results(chat_server: ChatServer, tmp_path: Path) -> None:
    """found events (newest first), then searched with the count; -here keeps to the open
    chat."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    script = (f"/send {bob} Lunch at the Café?\n/send {bob} lunch was great\n"
              f"/send {bob} nothing else\n/search LUNCH cafe\n/search lunch\n"
              f"/open {bob}\n/search -here great\n")
    status, events, err = run_script(chat_server.port, data, script, "--account", alice)
    assert status == 0, err
    searches = [e for e in events if e["event"] in ("found", "searched")]
    assert [(e["event"], e.get("text"), e.get("count")) for e in searches] == [
        ("found", "Lunch at the Café?", None), ("searched", "LUNCH cafe", 1),
        ("found", "lunch was great", None), ("found", "Lunch at the Café?", None),
        ("searched", "lunch", 2),
        ("found", "lunch was great", None), ("searched", "great", 1)]
    assert all(e["peer"] == bob and e["author"] == alice for e in searches
               if e["event"] == "found")
    assert searches[-1]["peer"] == bob


def test_prepare_folds_in_slices_between_other_work() -> None:
    """Finder.prepare lets the event loop run between slices, and leaves the copy ready."""
    state = State(ME)
    for i in range(2 * SLICE + 1):
        state.msg(BOB, ME, T0 + i, f"note {i}")
    finder, turns = Finder(), []

    async def scenario() -> None:
        async def other_work() -> None:
            while True:
                turns.append(len(turns))
                await asyncio.sleep(0)

        other = asyncio.create_task(other_work())
        await finder.prepare(state)
        other.cancel()

    run(scenario)
    assert len(turns) >= 2  # ran while the three slices were folded
    assert finder.search(state, f"note {2 * SLICE}").total == 1


def test_session_prepares_the_search_when_an_account_loads(tmp_path: Path) -> None:
    """Loading an account with an event loop running starts the fold; a journal record
    reaches the Finder through History.watchers."""
    first = offline_session(tmp_path)
    receive(first, BOB, "folded in the background", T0)
    run(first.close)

    async def scenario() -> Session:
        session = offline_session(tmp_path)
        assert session.folding is not None
        await asyncio.wait_for(session.folding, GUARD)
        return session

    session = run(scenario)
    assert session.history is not None and session.finder.heard in session.history.watchers
    assert session.search("BACKGROUND").total == 1
    run(session.close)
