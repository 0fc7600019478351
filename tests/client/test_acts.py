"""Replies, edits, deletions and reactions in the client's state and journal: applied once,
in any order to one picture, replayed and compacted to the same state, and exported."""

from pathlib import Path

import pytest

from interzap_client import message_acts
from interzap_client.conversations import Tick
from interzap_client.history import JOURNAL, History, export, snapshot
from interzap_client.state import State
from shared.codes import TOMBSTONE

ME, BOB, CAROL = "Client-000001", "Client-000002", "Client-000003"
GROUP = "Group-0000001"
THUMBS, HEART = "\U0001f44d", "\u2764\ufe0f"


def reopen(folder: Path) -> tuple[History, State]:
    state = State(ME)
    return History(folder, state), state


def received(history: History, ts: int = 100, text: str = "lunch at noon?") -> None:
    """Bob's message to us."""
    history.apply("msg", durable=True, src=BOB, dst=ME, ts=ts, text=text, at=ts)


def bobs(history: History, ts: int, kind: str, text: str = "", ref_ts: int = 100,
         ref_src: str = BOB) -> bool:
    """A 32 from Bob in our chat about the message (ref_src, ref_ts)."""
    return history.apply("act", durable=True, src=BOB, dst=ME, ts=ts, kind=kind,
                         ref_src=ref_src, ref_ts=ref_ts, text=text, at=ts)


def test_acts_edit_replaces_the_text_and_marks_it(tmp_path: Path) -> None:
    """An edit from the author shows its text, marked edited; an older one arriving later
    changes nothing, so any order gives the newest text."""
    history, state = reopen(tmp_path)
    received(history)
    assert bobs(history, 102, "E", "lunch at one?")
    assert bobs(history, 101, "E", "lunch at half past?")
    message = state.messages[(BOB, ME, 100)]
    assert (message.text, message.edited) == ("lunch at one?", 102)


def test_acts_same_act_twice_applied_once(tmp_path: Path) -> None:
    """A 32 delivered again (its 12 lost) is recognised by its key: a reaction does not
    toggle twice, nothing is journaled twice."""
    history, state = reopen(tmp_path)
    received(history)
    history.apply("msg", src=ME, dst=BOB, ts=105, text="mine", tick=int(Tick.ACCEPTED))
    assert bobs(history, 106, "X", THUMBS, ref_src=ME, ref_ts=105)
    assert not bobs(history, 106, "X", THUMBS, ref_src=ME, ref_ts=105)
    assert state.messages[(ME, BOB, 105)].reactions == {BOB: (106, THUMBS)}
    assert sum('"t":"act"' in line and '"ts":106' in line
               for line in (tmp_path / JOURNAL).read_text().splitlines()) == 1


def test_acts_reactions_one_per_person(tmp_path: Path) -> None:
    """A new reaction replaces the person's last, an empty one takes it back; counts and who."""
    history, state = reopen(tmp_path)
    history.apply("group", group=GROUP, ts=90, members=[ME, BOB, CAROL])
    history.apply("msg", src=ME, dst=GROUP, ts=100, text="pizza?", tick=int(Tick.DELIVERED))
    for src, ts, emoji in [(BOB, 101, THUMBS), (CAROL, 102, THUMBS), (BOB, 103, HEART),
                           (CAROL, 104, "")]:
        history.apply("act", src=src, dst=GROUP, ts=ts, kind="X", ref_src=ME, ref_ts=100,
                      text=emoji)
    message = state.messages[(ME, GROUP, 100)]
    assert message_acts.reaction_counts(message) == [(HEART, 1)]
    assert message_acts.reactors(message) == {HEART: [BOB]}


def test_acts_deletion_leaves_no_text_on_disk(tmp_path: Path) -> None:
    """A deletion empties the message and its edits, and compacts the journal at once: the
    text is gone from the file, the replay equals the state, the export shows the tombstone."""
    history, state = reopen(tmp_path)
    received(history, text="the secret plan")
    bobs(history, 101, "E", "the secret plan B")
    bobs(history, 102, "D")
    text = (tmp_path / JOURNAL).read_text()
    assert "secret" not in text
    message = state.messages[(BOB, ME, 100)]
    assert message.deleted and message.text == ""
    assert message_acts.shown_text(message) == TOMBSTONE
    [exported] = export(state)["messages"][BOB]
    assert exported["content"] == TOMBSTONE
    history.close()
    again, copy = reopen(tmp_path)
    assert copy == state
    again.close()


def test_acts_edit_after_deletion_ignored(tmp_path: Path) -> None:
    """An edit arriving after the deletion (another order of the same acts) brings no text,
    and keeps none for the next snapshot."""
    history, state = reopen(tmp_path)
    received(history)
    bobs(history, 102, "D")
    bobs(history, 101, "E", "sneaky")
    assert state.messages[(BOB, ME, 100)].text == ""
    assert "sneaky" not in str(snapshot(state))


def test_acts_only_the_author_edits(tmp_path: Path) -> None:
    """An edit or deletion by someone else (a hostile server) changes nothing."""
    history, state = reopen(tmp_path)
    history.apply("msg", src=ME, dst=BOB, ts=100, text="mine", tick=int(Tick.READ))
    bobs(history, 101, "E", "yours now", ref_src=ME)
    bobs(history, 102, "D", ref_src=ME)
    assert state.messages[(ME, BOB, 100)].text == "mine"


def test_acts_own_edit_waits_for_its_16_and_restarts_the_ticks(tmp_path: Path) -> None:
    """Our edit changes the text once accepted; the message then shows the edit's ticks; a
    refused edit never changes it."""
    history, state = reopen(tmp_path)
    history.apply("msg", src=ME, dst=BOB, ts=100, text="typo", tick=int(Tick.READ))
    history.apply("act", src=ME, dst=BOB, ts=101, kind="E", ref_src=ME, ref_ts=100,
                  text="fixed", tick=int(Tick.PENDING), at=101)
    message = state.messages[(ME, BOB, 100)]
    assert message.text == "typo"
    assert [type(item).__name__ for item in state.outbox()] == ["Act"]
    history.apply("tick", dst=BOB, ts=101, tick=int(Tick.ACCEPTED))
    assert message.text == "fixed"
    assert state.shown_tick(message) is Tick.ACCEPTED
    history.apply("read", peer=BOB, ts=101)
    assert state.shown_tick(message) is Tick.READ
    history.apply("act", src=ME, dst=BOB, ts=102, kind="E", ref_src=ME, ref_ts=100,
                  text="refused", tick=int(Tick.PENDING), at=102)
    history.apply("tick", dst=BOB, ts=102, tick=int(Tick.FAILED))
    assert message.text == "fixed"
    history.close()
    again, copy = reopen(tmp_path)
    assert copy == state
    again.close()


def test_acts_about_a_message_we_do_not_have(tmp_path: Path) -> None:
    """An act about an unknown message is kept without complaint, and applied if the message
    comes after it."""
    history, state = reopen(tmp_path)
    assert bobs(history, 101, "E", "edited before we saw it")
    assert bobs(history, 102, "X", THUMBS, ref_src=ME, ref_ts=50)
    received(history)
    assert state.messages[(BOB, ME, 100)].text == "edited before we saw it"
    history.compact()
    history.close()
    again, copy = reopen(tmp_path)
    assert copy == state
    again.close()


def test_acts_reply_quotes_its_original(tmp_path: Path) -> None:
    """A reply is a message naming (author, ts) of its original: quoted from the history, or
    said to be unknown; it survives compaction."""
    history, state = reopen(tmp_path)
    received(history, text="x" * 60)
    history.apply("msg", src=ME, dst=BOB, ts=101, text="sure", tick=0, reply=[BOB, 100])
    history.apply("msg", src=BOB, dst=ME, ts=102, text="and?", reply=[ME, 7])
    mine, theirs = state.messages[(ME, BOB, 101)], state.messages[(BOB, ME, 102)]
    assert mine.reply == (BOB, 100)
    quoted = message_acts.quote(state.original(ME, BOB, *mine.reply))
    assert quoted == "x" * (message_acts.QUOTE_LENGTH - 1) + "…"
    assert state.original(BOB, ME, *theirs.reply) is None
    assert message_acts.quote(None) == message_acts.UNKNOWN_ORIGINAL
    history.compact()
    history.close()
    again, copy = reopen(tmp_path)
    assert copy == state
    again.close()


@pytest.mark.parametrize("order", [pytest.param(0, id="journal"), pytest.param(1, id="snapshot")])
def test_acts_replay_gives_one_picture(tmp_path: Path, order: int) -> None:
    """Edits, reactions and a deletion in a group replay to the same state, from the journal
    as written and from its snapshot."""
    history, state = reopen(tmp_path)
    history.apply("group", group=GROUP, ts=90, members=[ME, BOB, CAROL])
    history.apply("msg", src=BOB, dst=GROUP, ts=100, text="one")
    history.apply("msg", src=CAROL, dst=GROUP, ts=101, text="two")
    history.apply("act", src=BOB, dst=GROUP, ts=102, kind="E", ref_src=BOB, ref_ts=100,
                  text="uno")
    history.apply("act", src=CAROL, dst=GROUP, ts=103, kind="X", ref_src=BOB, ref_ts=100,
                  text=THUMBS)
    history.apply("act", src=CAROL, dst=GROUP, ts=104, kind="D", ref_src=CAROL, ref_ts=101,
                  text="")
    if order:
        history.compact()
    history.close()
    again, copy = reopen(tmp_path)
    assert copy == state
    assert copy.messages[(BOB, GROUP, 100)].text == "uno"
    assert copy.messages[(CAROL, GROUP, 101)].deleted
    again.close()
