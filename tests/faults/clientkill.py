"""A recipient's client killed with SIGKILL at random moments of a burst, as a run with figures.

Used by tests/faults/test_client_kill.py (small) and soak/faults.py (full size).
A raw author sends the whole burst at once; the real client of the recipient
stores each 06 (fsync) and then sends its 12, so a kill lands between any two
of: journal append, 12, the next 06. After each kill the client starts again
and is killed again once a random number of new messages has arrived; the
last one runs until it has everything. The figures come from its history file
and from the 07s the author got.
"""

from __future__ import annotations

import random
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from client.clientkit import ClientProcess, stop_process
from wire import ClientFactory, ServerFactory, ServerProcess, WireClient, timestamp

from faults.kit import accounts
from interzap_client import profile
from interzap_client.history import History
from interzap_client.state import State
from shared import events as ev


@dataclass(slots=True)
class BurstFigures:
    total: int
    kills: int
    seed: int
    killed_after: list[int] = field(default_factory=list)
    """Per kill: messages the killed client had printed."""
    held_at_kill: list[int] = field(default_factory=list)
    """Per kill: messages in the history file right after the kill."""
    stored: Counter[str] = field(default_factory=Counter)
    """text -> copies in the recipient's history at the end."""
    delivered: Counter[int] = field(default_factory=Counter)
    """ts -> 07s the author got."""
    warnings: list[str] = field(default_factory=list)
    last_status: int | None = None

    @property
    def lost(self) -> int:
        return sum(1 for i in range(self.total) if not self.stored[f"burst {i}"])

    @property
    def twice(self) -> int:
        return sum(n - 1 for n in self.stored.values() if n > 1)

    @property
    def no_delivered(self) -> int:
        return self.total - len(self.delivered)

    @property
    def delivered_twice(self) -> int:
        return sum(n - 1 for n in self.delivered.values() if n > 1)


def recipient(server: ServerProcess, client_factory: ClientFactory,
              processes: list[ClientProcess], data: Path) -> tuple[str, WireClient,
                                                                   ClientProcess]:
    """Bob, a real client logged in with an account of its own in `data`, and alice on the
    wire: (bob's id, alice, bob's client, added to `processes`)."""
    [(bob, _)] = accounts(server, data, 1)
    alice = client_factory.registered(server)
    client = ClientProcess(server.port, data, "--account", bob)
    processes.append(client)
    client.expect("logged_in")
    return bob, alice, client


def kill(client: ClientProcess) -> None:
    """SIGKILL, and the process reaped."""
    stop_process(client.proc, signal.SIGKILL)


def stored(data: Path, user: str) -> State:
    """What the client of `user` holds on disk (read-only, as `export` reads it)."""
    state = State(user)
    History(profile.account_dir(data, user), state, readonly=True).close()
    return state


def burst_kill_run(folder: Path, total: int, kills: int, seed: int) -> BurstFigures:
    figures = BurstFigures(total, kills, seed)
    rng = random.Random(seed)
    servers = ServerFactory(folder)
    started: list[ClientProcess] = []
    alice: WireClient | None = None
    try:
        server = servers.start(extra_args=("--log-level", "info"))
        data = folder / "data"
        [(bob, _)] = accounts(server, data, 1)
        alice = WireClient.connect(*server.address, name="alice")
        alice.register()
        base = timestamp() - total
        alice.send(*(ev.Send(alice.user, bob, base + i, f"burst {i}") for i in range(total)))
        held = 0
        for _ in range(kills):
            client = ClientProcess(server.port, data, "--account", bob)
            started.append(client)
            remaining = total - held
            after = rng.randrange(1, max(2, remaining // max(1, kills)))
            for _ in range(after):
                event = client.expect(lambda e: e["event"] in ("message", "warning"))
                if event["event"] == "warning":
                    figures.warnings.append(event["text"])
            stop_process(client.proc, signal.SIGKILL)
            figures.killed_after.append(after)
            held = len(stored(data, bob).messages)
            figures.held_at_kill.append(held)
        last = ClientProcess(server.port, data, "--account", bob, "--timeout", "30")
        started.append(last)
        last.send(f"/wait received {total - held}")
        figures.last_status = last.finish(timeout=60)
        figures.warnings += [e["text"] for e in last.events if e["event"] == "warning"]
        for message in stored(data, bob).conversation(alice.user).messages:
            figures.stored[message.text] += 1
        try:
            while len(figures.delivered) < total:
                figures.delivered[alice.expect(ev.Delivered).ts] += 1  # type: ignore[attr-defined]
        except AssertionError:
            pass  # a 07 that never came: no_delivered says how many
        for event in alice.sync():  # a repeated 07 would come before the pong
            if isinstance(event, ev.Delivered):
                figures.delivered[event.ts] += 1
    finally:
        for client in started:
            stop_process(client.proc, signal.SIGKILL)
        if alice is not None:
            alice.close()
        servers.stop_all()
    return figures
