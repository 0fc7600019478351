"""kill -9 of a real client process: between a 06 and its 12, at random moments of a burst,
and with a 07 not yet read.

The client is stopped (SIGSTOP) where a test needs it to be, and /proc shows
the frame waiting, unread, in its socket; then SIGKILL. tests/client/
test_session.py covers the kill between the journal append and the 12 inside
one process; these kill the process itself.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from client.clientkit import ClientProcess
from wire import ClientFactory, ServerFactory, timestamp

from faults.clientkill import burst_kill_run, kill, recipient, stored
from faults.kit import accounts, wait_unread
from shared import events as ev


def test_client_kill_between_deliver_and_receipt_redelivers_once(
        server_factory: ServerFactory, client_factory: ClientFactory,
        processes: list[ClientProcess], tmp_path: Path) -> None:
    """A recipient killed with a 06 in its socket, before its 12, gets it at next login, once."""
    server = server_factory.start()
    data = tmp_path / "data"
    bob, alice, first = recipient(server, client_factory, processes, data)
    os.kill(first.proc.pid, signal.SIGSTOP)
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob, ts, "while you sleep"))
    alice.expect_next(ev.Accepted(bob, ts))
    wait_unread(first.proc.pid)  # the 06 has arrived; the client never read it
    kill(first)
    assert (alice.user, bob, ts) not in stored(data, bob).messages
    alice.assert_silent()  # no 12 left: no 07

    again = ClientProcess(server.port, data, "--account", bob)
    processes.append(again)
    message = again.expect("message")
    assert (message["author"], message["ts"], message["text"]) == (alice.user, ts,
                                                                     "while you sleep")
    alice.expect_next(ev.Delivered(bob, ts))  # this time the 12 left
    assert again.finish() == 0
    assert [e for e in again.events if e["event"] == "message"] == [message]
    assert [m.text for m in stored(data, bob).conversation(alice.user).messages] == [
        "while you sleep"]


def test_client_kill_mid_burst_stores_each_once(tmp_path: Path) -> None:
    """A recipient killed at random moments of a burst holds each message once; each 07 comes."""
    seed = int(os.environ.get("FAULTS_SEED", random.randrange(1 << 30)))
    figures = burst_kill_run(tmp_path, total=80, kills=2, seed=seed)
    print(figures)
    assert figures.last_status == 0, f"seed {seed}"
    assert figures.lost == 0 and figures.twice == 0, f"seed {seed}"
    assert figures.no_delivered == 0 and figures.delivered_twice == 0, f"seed {seed}"


def test_client_kill_keeps_unread_delivered_notice(
        server_factory: ServerFactory, client_factory: ClientFactory,
        processes: list[ClientProcess], tmp_path: Path) -> None:
    """An author killed with a 07 unread in its socket gets the 07 at its next login."""
    server = server_factory.start()
    data = tmp_path / "data"
    [(alice, _)] = accounts(server, data, 1)
    bob = client_factory.registered(server)
    first = ClientProcess(server.port, data, "--account", alice)
    processes.append(first)
    first.expect("logged_in")
    first.send(f"/send {bob.user} tick tick")
    accepted = first.expect("accepted")
    bob.expect_next(ev.Deliver(alice, bob.user, accepted["ts"], "tick tick"))
    os.kill(first.proc.pid, signal.SIGSTOP)
    bob.send(ev.Receipt(alice, bob.user, accepted["ts"]))
    bob.sync()  # the 07 (and the 14 that would confirm it) is written to alice's socket
    wait_unread(first.proc.pid)
    kill(first)

    again = ClientProcess(server.port, data, "--account", alice, "--timeout", "2")
    processes.append(again)
    again.send(f"/wait delivered {bob.user}")
    again.finish()
    assert any(e["event"] == "delivered" for e in again.events), again.events

