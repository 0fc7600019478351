"""kill -9 of a client with a 32 (an edit) in its socket, before its 12: nothing is lost and
nothing is applied twice. (The kill between the journal append of a 32 and its 12, inside
one process: tests/client/test_session_acts.py; the server's kill -9 after accepted 31s, on
both databases: tests/server/test_actions_restart.py.)"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from client.clientkit import ClientProcess
from wire import ClientFactory, ServerFactory, timestamp

from faults.clientkill import kill, recipient, stored
from faults.kit import wait_unread
from shared import events as ev
from shared.codes import ActKind


def test_acts_client_kill_with_an_edit_unread_applies_it_once(
        server_factory: ServerFactory, client_factory: ClientFactory,
        processes: list[ClientProcess], tmp_path: Path) -> None:
    """A recipient killed with a 32 in its socket, before its 12, gets it at its next login:
    one "edited" event, the new text on disk, the 07 of the edit to its author."""
    server = server_factory.start()
    data = tmp_path / "data"
    bob, alice, first = recipient(server, client_factory, processes, data)
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob, ts, "see you at 5"))
    alice.expect_next(ev.Accepted(bob, ts))
    first.expect("message")
    alice.expect_next(ev.Delivered(bob, ts))
    os.kill(first.proc.pid, signal.SIGSTOP)
    alice.send(ev.Act(alice.user, bob, ts + 1, ActKind.EDIT, alice.user, ts, "see you at 6"))
    alice.expect_next(ev.Accepted(bob, ts + 1))
    wait_unread(first.proc.pid)  # the 32 has arrived; the client never read it
    kill(first)
    alice.assert_silent()  # no 12 of the edit: no 07

    again = ClientProcess(server.port, data, "--account", bob)
    processes.append(again)
    edited = again.expect("edited")
    assert (edited["ref_ts"], edited["text"]) == (ts, "see you at 6")
    alice.expect_next(ev.Delivered(bob, ts + 1))
    assert again.finish() == 0
    assert [e["event"] for e in again.events].count("edited") == 1
    [message] = stored(data, bob).conversation(alice.user).messages
    assert (message.text, message.edited) == ("see you at 6", ts + 1)
