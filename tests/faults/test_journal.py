"""The client killed in the middle of a journal write, end to end.

The client writes a received 06 to its journal (and fsyncs) before its 12
leaves, so a kill in the middle of that write leaves a cut line and no 12.
Here the line is cut by hand where the kill would have cut it, after a real
kill -9 of the process with that 06 unread; then the client starts again.
tests/client/test_history.py checks the History class alone, and
test_scripted.py the warning; this checks the whole round trip.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from client.clientkit import ClientProcess
from wire import ClientFactory, ServerFactory, timestamp

from faults.clientkill import kill, recipient
from faults.kit import wait_unread
from interzap_client import profile
from interzap_client.history import JOURNAL, History
from interzap_client.state import State
from shared import events as ev


def test_journal_cut_mid_line_keeps_the_rest_and_redelivers(
        server_factory: ServerFactory, client_factory: ClientFactory,
        processes: list[ClientProcess], tmp_path: Path) -> None:
    """A journal cut mid-line: complete lines kept, the cut reported, the 06 redelivered once."""
    server = server_factory.start()
    data = tmp_path / "data"
    bob, alice, first = recipient(server, client_factory, processes, data)
    base = timestamp() - 10
    for i in range(3):
        alice.send(ev.Send(alice.user, bob, base + i, f"kept {i}"))
        assert first.expect("message")["text"] == f"kept {i}"
        alice.expect(ev.Delivered(bob, base + i))
    os.kill(first.proc.pid, signal.SIGSTOP)
    cut_ts = base + 3
    alice.send(ev.Send(alice.user, bob, cut_ts, "cut short"))
    alice.expect(ev.Accepted(bob, cut_ts))
    wait_unread(first.proc.pid)
    kill(first)

    journal = profile.account_dir(data, bob) / JOURNAL
    kept = journal.read_bytes()
    assert kept.endswith(b"\n")  # every line so far is whole
    record = {"t": "msg", "src": alice.user, "dst": bob, "ts": cut_ts, "text": "cut short"}
    line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
    with open(journal, "ab") as out:  # the line the client was writing when it died, cut
        out.write(line[:len(line) // 2])

    again = ClientProcess(server.port, data, "--account", bob)
    processes.append(again)
    warning = again.expect("warning")
    assert "cut short" in warning["text"]
    assert again.expect("message")["text"] == "cut short"
    alice.expect(ev.Delivered(bob, cut_ts))  # its 12 left this time
    assert again.finish() == 0
    assert [e["event"] for e in again.events].count("message") == 1
    assert [e for e in again.events if e["event"] == "warning"] == [warning]

    state = State(bob)
    history = History(profile.account_dir(data, bob), state, readonly=True)
    history.close()
    assert history.warnings == []  # the journal was rewritten clean
    assert [m.text for m in state.conversation(alice.user).messages] == [
        "kept 0", "kept 1", "kept 2", "cut short"]
    damaged = journal.with_name(JOURNAL + ".damaged").read_bytes()
    assert damaged == line[:len(line) // 2] + b"\n"
