"""Read marks (08 -> 09) under faults: what the real client does not send again.

Found by the kill-run (tests/faults/killrun.py): a 09 owed to an author that
never comes although every reader read the message. Both cases are client
bugs; the server does what PROTOCOL.md 5.4 says with the 08s it gets.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from client.clientkit import ClientProcess
from wire import ClientFactory, ServerFactory, timestamp

from faults.kit import accounts, wait_unread
from shared import events as ev


def test_client_read_mark_survives_server_kill(server_factory: ServerFactory,
                                              processes: list[ClientProcess],
                                              tmp_path: Path) -> None:
    """An 08 that died with the server is sent again after the reconnect: the author gets 09."""
    server = server_factory.start()
    data = tmp_path / "data"
    (alice, _), (bob, _) = accounts(server, data, 2)
    a = ClientProcess(server.port, data, "--account", alice, "--timeout", "2")
    b = ClientProcess(server.port, data, "--account", bob)
    processes += [a, b]
    a.expect("logged_in")
    b.expect("logged_in")
    a.send(f"/send {bob} read me", f"/wait delivered {bob}")
    b.expect("message")
    a.expect("delivered")
    os.kill(server.pid, signal.SIGSTOP)
    b.send(f"/read {alice}")
    wait_unread(server.pid)  # the 08 waits in the stopped server's socket
    server.kill()
    server_factory.start(port=server.port)
    a.expect("reconnected")
    b.expect("reconnected")
    b.send(f"/read {alice}")  # the user opens the chat again: still nothing new to say
    a.send(f"/wait read {bob}")
    outcome = a.expect(lambda e: e["event"] in ("read", "error"))
    assert outcome["event"] == "read", outcome


def test_client_group_read_mark_covers_late_arrivals(server_factory: ServerFactory,
                                                    client_factory: ClientFactory,
                                                    processes: list[ClientProcess],
                                                    tmp_path: Path) -> None:
    """A group message that arrives after a newer one was read is reported read (09) too."""
    server = server_factory.start()
    data = tmp_path / "data"
    [(carol, _)] = accounts(server, data, 1)
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    alice.send(ev.CreateGroup(alice.user, timestamp(), (bob.user, carol)))
    created = alice.expect_next(ev.GroupCreated)
    assert isinstance(created, ev.GroupCreated)
    bob.expect_next(created)
    c = ClientProcess(server.port, data, "--account", carol)
    processes.append(c)
    group, now = created.group, timestamp()
    # alice's clock runs ahead of bob's: her message carries the larger ts, and comes first
    alice.send(ev.Send(alice.user, group, now + 100, "from the future"))
    alice.expect_next(ev.Accepted(group, now + 100))
    assert c.expect("message")["ts"] == now + 100
    c.send(f"/read {group}")
    bob.expect_next(ev.Deliver(alice.user, group, now + 100, "from the future"))
    bob.send(ev.Send(bob.user, group, now, "from the present"))
    bob.expect_next(ev.Accepted(group, now))
    assert c.expect("message")["ts"] == now
    c.send(f"/read {group}")  # carol has read bob's message too
    alice.expect(ev.Deliver(bob.user, group, now, "from the present"))
    alice.send(ev.Receipt(bob.user, group, now), ev.Read(group, now))  # and so has alice
    bob.expect(ev.ReadNotice(group, now), timeout=2)
