"""history: the append-only journal, its compaction, damage at start-up, and the export."""

import json
import stat
from pathlib import Path

import pytest

from interzap_client.conversations import Tick
from interzap_client.history import JOURNAL, History, export
from interzap_client.profile import ProfileError
from interzap_client.state import State

ME, BOB, CAROL = "Client-000001", "Client-000002", "Client-000003"
GROUP = "Group-0000001"


def reopen(folder: Path) -> tuple[History, State]:
    state = State(ME)
    return History(folder, state), state


def lines(folder: Path) -> list[str]:
    return (folder / JOURNAL).read_text(encoding="utf-8").splitlines()


def write_a_bit_of_everything(history: History) -> None:
    history.apply("alias", ident=BOB, alias="bob")
    history.apply("msg", durable=True, src=ME, dst=BOB, ts=100, text="hi", tick=0)
    history.apply("tick", dst=BOB, ts=100, tick=int(Tick.DELIVERED))
    history.apply("msg", durable=True, src=BOB, dst=ME, ts=101, text="yo ✓ \"q\"\n")
    history.apply("seen", peer=BOB, ts=101)
    history.apply("group", group=GROUP, ts=90, members=[ME, BOB, CAROL])
    history.apply("create", ts=95, members=[CAROL])
    history.apply("blocks", users=[BOB, CAROL])


def test_history_survives_a_restart(tmp_path: Path) -> None:
    """Replaying the journal rebuilds the same state that wrote it."""
    history, state = reopen(tmp_path)
    write_a_bit_of_everything(history)
    history.close()
    again, copy = reopen(tmp_path)
    assert again.warnings == []
    assert copy == state
    assert copy.resolve("bob") == BOB
    assert copy.conversation(BOB).messages[1].text == "yo ✓ \"q\"\n"
    assert stat.S_IMODE((tmp_path / JOURNAL).stat().st_mode) == 0o600


def test_history_compaction_forgets_nothing(tmp_path: Path) -> None:
    """A journal rewritten as a snapshot rebuilds a state equal to the one it describes."""
    history, state = reopen(tmp_path)
    write_a_bit_of_everything(history)
    history.apply("alias", ident=GROUP, alias="team")
    history.apply("msg", src=ME, dst=CAROL, ts=102, text="refused", tick=0)
    history.apply("tick", dst=CAROL, ts=102, tick=int(Tick.FAILED))
    history.apply("msg", src=CAROL, dst=GROUP, ts=300, text="newer")
    history.apply("seen", peer=GROUP, ts=300)
    history.apply("msg", src=BOB, dst=GROUP, ts=250, text="late")
    history.compact()
    history.close()
    _, copy = reopen(tmp_path)
    assert copy == state


def test_history_same_message_twice_stored_once(tmp_path: Path) -> None:
    """A 06 that comes again (same key) adds no line and no message."""
    history, _ = reopen(tmp_path)
    assert history.apply("msg", durable=True, src=BOB, dst=ME, ts=100, text="hi")
    assert not history.apply("msg", durable=True, src=BOB, dst=ME, ts=100, text="hi")
    history.close()
    assert len(lines(tmp_path)) == 1
    _, copy = reopen(tmp_path)
    assert len(copy.conversation(BOB).messages) == 1


def test_history_truncated_last_line_keeps_the_rest(tmp_path: Path) -> None:
    """A last line cut short by a kill is reported and dropped; everything before stays."""
    history, _ = reopen(tmp_path)
    for ts in (100, 101, 102):
        history.apply("msg", durable=True, src=BOB, dst=ME, ts=ts, text=f"m{ts}")
    history.close()
    with open(tmp_path / JOURNAL, "ab") as journal:
        journal.write(b'{"t":"msg","src":"Client-000002","dst":"Cli')
    again, copy = reopen(tmp_path)
    assert len(again.warnings) == 1 and "cut short" in again.warnings[0]
    assert [m.text for m in copy.conversation(BOB).messages] == ["m100", "m101", "m102"]
    # the journal was rewritten clean: the next append starts on a line of its own
    again.apply("msg", durable=True, src=BOB, dst=ME, ts=103, text="m103")
    again.close()
    third, final = reopen(tmp_path)
    assert third.warnings == []
    assert len(final.conversation(BOB).messages) == 4
    assert (tmp_path / (JOURNAL + ".damaged")).read_bytes().startswith(b'{"t":"msg"')


def test_history_corrupt_line_skipped_not_fatal(tmp_path: Path) -> None:
    """Garbage in the journal is skipped with a warning, never a crash."""
    (tmp_path / JOURNAL).write_bytes(
        b'{"t":"msg","src":"Client-000002","dst":"Client-000001","ts":5,"text":"a"}\n'
        b"\xff\xfe not json\n"
        b'{"t":"nonsense"}\n'
        b'{"t":"msg","src":"Client-000002","dst":"Client-000001","ts":6,"text":"b"}\n'
    )
    history, state = reopen(tmp_path)
    assert len(history.warnings) == 2
    assert [m.text for m in state.conversation(BOB).messages] == ["a", "b"]


def test_history_compaction_bounds_the_journal(tmp_path: Path) -> None:
    """Many changes to few messages are compacted by an atomic rewrite, state unchanged."""
    history, state = reopen(tmp_path)
    history.apply("msg", durable=True, src=ME, dst=BOB, ts=100, text="hi", tick=0)
    for seen in range(1, 2001):
        history.apply("seen", peer=BOB, ts=seen)  # each one a new line
    assert len(lines(tmp_path)) < 400
    assert not (tmp_path / (JOURNAL + ".tmp")).exists()
    history.close()
    _, copy = reopen(tmp_path)
    assert copy == state
    assert copy.conversation(BOB).seen == 2000


def test_history_append_does_not_rewrite(tmp_path: Path) -> None:
    """Storing a message appends one line: the file's earlier bytes are untouched."""
    history, _ = reopen(tmp_path)
    for ts in range(100, 150):
        history.apply("msg", durable=True, src=BOB, dst=ME, ts=ts, text="x" * 50)
    before = (tmp_path / JOURNAL).read_bytes()
    inode = (tmp_path / JOURNAL).stat().st_ino
    history.apply("msg", durable=True, src=BOB, dst=ME, ts=150, text="new")
    after = (tmp_path / JOURNAL).read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    assert (tmp_path / JOURNAL).stat().st_ino == inode


def test_history_export_matches_original_format(tmp_path: Path) -> None:
    """Export: {"contacts": [...], "messages": {peer: [{sender,time,content,delivered,read}]}}."""
    history, state = reopen(tmp_path)
    history.apply("alias", ident=CAROL, alias="carol")
    history.apply("msg", src=ME, dst=BOB, ts=100, text="sent", tick=0)
    history.apply("tick", dst=BOB, ts=100, tick=int(Tick.DELIVERED))
    history.apply("msg", src=ME, dst=BOB, ts=101, text="pending", tick=0)
    history.apply("msg", src=BOB, dst=ME, ts=102, text="got it")
    history.apply("seen", peer=BOB, ts=102)
    history.apply("msg", src=CAROL, dst=GROUP, ts=103, text="group hi")
    data = json.loads(json.dumps(export(state)))
    assert data == {
        "contacts": [CAROL, BOB],
        "messages": {
            BOB: [
                {"sender": ME, "time": 100, "content": "sent", "delivered": True,
                 "read": False},
                {"sender": ME, "time": 101, "content": "pending", "delivered": False,
                 "read": False},
                {"sender": BOB, "time": 102, "content": "got it", "delivered": True,
                 "read": True},
            ],
            GROUP: [
                {"sender": CAROL, "time": 103, "content": "group hi", "delivered": True,
                 "read": False},
            ],
        },
    }


def test_history_one_writer_per_account(tmp_path: Path) -> None:
    """A second client on the same account is refused; a reader (export) is not."""
    history, _ = reopen(tmp_path)
    history.apply("msg", src=BOB, dst=ME, ts=100, text="hi")
    with pytest.raises(ProfileError, match="in use"):
        reopen(tmp_path)
    reader = History(tmp_path, State(ME), readonly=True)
    assert len(reader.state.messages) == 1
    history.close()
    again, _ = reopen(tmp_path)  # released at close (and by the kernel if killed)
    again.close()


def test_history_block_list_replaces_and_survives(tmp_path: Path) -> None:
    """A 19 replaces the whole list (none: empty), a repeat writes nothing, and the list
    survives a restart and a compaction."""
    history, state = reopen(tmp_path)
    assert history.apply("blocks", users=[BOB, CAROL])
    assert not history.apply("blocks", users=[BOB, CAROL])
    assert history.apply("blocks", users=[CAROL])
    assert state.blocked == [CAROL]
    history.close()
    again, copy = reopen(tmp_path)
    assert copy.blocked == [CAROL]
    again.compact()
    again.close()
    _, compacted = reopen(tmp_path)
    assert compacted == copy
