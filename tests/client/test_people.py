"""Names and group admin in the client: the State's rules (people.py), the journal's replay
and compaction, the export left as it was, and what the full-screen client shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from clientkit import run
from uikit import BOB, CAROL, ME, eventually, offline_app, offline_session, receive, screen

from interzap_client.history import History, export
from interzap_client.people import PendingChange, WantedName, admins_of, is_member
from interzap_client.state import State
from interzap_client.ui.completion import known_names

DAVE = "Client-000004"
GROUP = "Group-0000001"
T0 = 1_764_000_000


def group_story(group: Callable[[str, int, Sequence[str]], object],
                event: Callable[[str, int, str, str, str], object]) -> None:
    """Our group with Bob and Carol: renamed, Carol promoted, Dave added, Bob leaves."""
    group(GROUP, T0, (ME, BOB, CAROL))
    event(GROUP, T0 + 1, ME, "N", "book club")
    event(GROUP, T0 + 2, ME, "P", CAROL)
    event(GROUP, T0 + 3, ME, "A", DAVE)
    event(GROUP, T0 + 4, BOB, "L", "")


def reopen(folder: Path) -> tuple[History, State]:
    state = State(ME)
    return History(folder, state), state


def test_people_labels_alias_then_name_then_id() -> None:
    """An alias wins over a name, a name over the id; two contacts with one name are told
    apart by the end of their ids; a unique name resolves like an alias."""
    state = State(ME)
    state.named(BOB, "Bob")
    assert state.label(BOB) == "Bob" and state.resolve("Bob") == BOB
    state.named(CAROL, "Bob")
    assert (state.label(BOB), state.label(CAROL)) == ("Bob (…0002)", "Bob (…0003)")
    assert state.resolve("Bob") is None  # two of them: say which
    assert state.resolve("Bob (…0003)") == CAROL
    state.alias(BOB, "bobby")
    assert state.label(BOB) == "bobby" and state.label(DAVE) == DAVE


def test_people_group_changes_apply_once() -> None:
    """24s change members, admins and the name; a repeat changes nothing and adds no line."""
    state = State(ME)
    group_story(state.group, state.group_event)
    conv = state.conversation(GROUP)
    assert conv.members == (ME, CAROL, DAVE)
    assert admins_of(state, GROUP) == (ME, CAROL)
    assert state.label(GROUP) == "book club"
    lines = len(state.people.notes[GROUP])
    assert not state.group_event(GROUP, T0 + 3, ME, "A", DAVE)
    assert len(state.people.notes[GROUP]) == lines


def test_people_removed_member_is_not_a_member() -> None:
    state = State(ME)
    state.group(GROUP, T0, [BOB, ME])
    assert is_member(state, GROUP)
    state.group_event(GROUP, T0 + 1, BOB, "R", ME)
    assert not is_member(state, GROUP)
    assert state.conversation(GROUP).members == (BOB,)


def test_people_newcomer_learns_admins_from_the_listed_ones() -> None:
    """Added to a group: its 11 lists the oldest member first, who need not be an admin; the
    `a` 24s say who is."""
    state = State(DAVE)
    state.group(GROUP, T0, [BOB, CAROL, DAVE])
    state.group_event(GROUP, T0, CAROL, "n", "club")
    state.group_event(GROUP, T0, CAROL, "a", CAROL)
    state.group_event(GROUP, T0 + 5, CAROL, "A", DAVE)
    assert admins_of(state, GROUP) == (CAROL,)
    assert state.label(GROUP) == "club"
    assert [n.op for n in state.people.notes[GROUP]] == ["A"]  # the state ops are silent


def test_people_history_replays_and_compacts(tmp_path: Path) -> None:
    """Names, group changes, a pending 21 and 23 survive a restart and a compaction, with
    each change line at its place among the messages; the export is as before."""
    history, state = reopen(tmp_path)
    history.apply("msg", src=BOB, dst=GROUP, ts=T0 - 1, text="before")

    def event(group: str, ts: int, actor: str, op: str, arg: str) -> bool:
        return history.apply("group_event", group=group, ts=ts, actor=actor, op=op, arg=arg)

    group_story(lambda *a: history.apply("group", group=a[0], ts=a[1], members=list(a[2])),
                event)
    history.apply("msg", src=CAROL, dst=GROUP, ts=T0 + 10, text="after")
    history.apply("named", user=BOB, name="Bob")
    history.apply("want_name", name="Me")
    history.apply("change", group=GROUP, ts=T0 + 20, op="N", arg="new name")
    history.close()
    again, copy = reopen(tmp_path)
    assert copy == state
    again.compact()
    again.close()
    _, compacted = reopen(tmp_path)
    assert compacted == state
    assert [n.index for n in compacted.people.notes[GROUP]] == [1] * 4
    [change, wanted] = compacted.outbox()
    assert (change, wanted) == (PendingChange(GROUP, T0 + 20, "N", "new name"),
                                WantedName("Me"))
    assert set(export(compacted)) == {"contacts", "messages"}
    assert [m["content"] for m in export(compacted)["messages"][GROUP]] == ["before", "after"]


def test_people_group_created_with_a_name_queues_the_rename() -> None:
    """/group NAME: ... journals the name with the 10; its 11 turns it into a pending 23
    keyed by the 10's ts."""
    state = State(ME)
    state.create(T0, [BOB], name="club")
    state.group(GROUP, T0, [ME, BOB])
    [change] = state.people.changes.values()
    assert (change.group, change.ts, change.op, change.arg) == (GROUP, T0, "N", "club")


def test_people_ui_shows_names_and_group_lines(tmp_path: Path) -> None:
    """The chat list and header show names, not ids; group changes are lines of the chat."""
    session = offline_session(tmp_path)
    history = session.history
    assert history is not None
    history.apply("named", user=BOB, name="Bob Builder")
    history.apply("group", group=GROUP, ts=T0, members=[BOB, ME])
    history.apply("group_event", group=GROUP, ts=T0, actor=BOB, op="N", arg="site crew")
    receive(session, BOB, "first", T0 + 1, dst=GROUP)
    history.apply("group_event", group=GROUP, ts=T0 + 2, actor=BOB, op="A", arg=CAROL)
    history.apply("group_event", group=GROUP, ts=T0 + 3, actor=CAROL, op="L", arg="")

    async def scenario() -> None:
        async with offline_app(session, 90, 14) as (app, _):
            session.open(GROUP)
            await eventually(lambda: "left" in "".join(screen(app, 90, 14)), "the lines")
            shown = "\n".join(screen(app, 90, 14))
            assert "# site crew" in shown
            assert "Bob Builder renamed the group to site crew" in shown
            assert f"Bob Builder added {CAROL}" in shown and f"{CAROL} left" in shown
            assert shown.index("renamed") < shown.index("first") < shown.index("added")
            assert BOB not in shown

    run(scenario)


def test_people_completion_offers_one_word_names() -> None:
    """Tab offers a one-word name that says who (beside it: the id); an id shows its name."""
    state = State(ME)
    state.named(BOB, "Bob")
    state.named(CAROL, "Carol Ann")
    state.alias(BOB)
    state.alias(CAROL)
    names = known_names(state)
    assert names["Bob"] == BOB and names[BOB] == "Bob"
    assert "Carol Ann" not in names and names[CAROL] == "Carol Ann"
