"""The kill-run: kill -9 of the server at random moments while a fleet of real clients chats.

Used by tests/faults/test_server_kill.py (small) and soak/faults.py (full size).

Theory of operation. Every client is a real scripted client (its outbox
journaled, resent with the same keys after every reconnect). The fleet is fed
rounds of /send lines, 1:1 and to groups. In every round but the last the
server is killed with SIGKILL once a randomly drawn number of that round's
messages has been answered with 16, so the kill lands while 05s, 16s, 06s,
12s and 07s are in flight; it is restarted at once on the same port and
database, a probe logs in as soon as it listens, and the clients reconnect by
themselves. After the last round every client waits until it holds every
message sent to it, marks every conversation read, waits until its own
messages are read (`/wait read`), and leaves; then everyone logs in again and
checks the same once more. The figures come from what the clients printed
and from their history files on disk:

- accepted: own messages the authors' histories show answered with 16;
- stored / lost: (message, recipient) pairs found / not found in the
  recipient's history;
- twice: a recipient holding one text under two keys (a key is stored once by
  construction, so a duplicate can only be a resend with a new key);
- no 07 / no 09: accepted messages whose author never printed `delivered`, or
  whose history does not show them read at the end.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backends import SQLITE, Backend
from wire import ServerFactory, ServerProcess, WireClient

from faults import kit
from faults.kit import GUARD, Fleet, FleetClient
from interzap_client import profile
from interzap_client.conversations import Tick
from interzap_client.history import History
from interzap_client.state import State
from shared import events as ev

SERVER_ARGS = ("--log-level", "info")
"""Debug logs of every query would slow the server down more than the faults do."""
CLIENT_TIMEOUT = 10
"""--timeout of the clients: each /wait that cannot be met gives up after this long."""
FINISH_GUARD = 120.0
"""Seconds the clients may take to end their scripts (several /waits that time out)."""


@dataclass(frozen=True, slots=True)
class KillRunSize:
    clients: int
    kills: int
    per_round: int
    """Messages each client sends in each round (there are kills + 1 rounds)."""
    group_size: int = 4
    group_share: float = 0.3
    """The share of messages sent to the author's group rather than to one user."""
    seed: int = 0


@dataclass(slots=True)
class KillRunFigures:
    size: KillRunSize
    sent: int = 0
    accepted: int = 0
    copies: int = 0
    """(message, recipient) pairs owed: one per 1:1 message, members - 1 per group message."""
    stored: int = 0
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    no_delivered: list[str] = field(default_factory=list)
    no_read: list[str] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=list)
    """Per kill: messages fed to the clients and not yet seen accepted when it came."""
    listening: list[float] = field(default_factory=list)
    """Per restart: seconds from starting the process to its `listening on` line."""
    first_login: list[float] = field(default_factory=list)
    """Per restart: seconds from starting the process to the 04 of a login sent at once."""
    all_back: list[float] = field(default_factory=list)
    """Per restart: seconds from starting the process until every client printed reconnected."""
    problems: list[str] = field(default_factory=list)
    """Errors printed by clients, bad exit statuses, waits that ran out."""


class KillRun:
    """One run; run() returns the figures. Every process is stopped by pid at the end."""

    def __init__(self, folder: Path, size: KillRunSize, backend: Backend = SQLITE) -> None:
        self.folder = folder
        self.size = size
        self.rng = random.Random(size.seed)
        self.figures = KillRunFigures(size)
        self.servers = ServerFactory(folder, backend)
        self.server: ServerProcess | None = None
        self.fleet: Fleet | None = None
        self.users: list[str] = []
        self.probe: tuple[str, str] = ("", "")
        self.groups: dict[str, tuple[str, ...]] = {}  # group -> members
        self.group_of: dict[str, str] = {}  # user -> its group
        self.sent: list[tuple[str, str, str]] = []  # (author, peer, text)
        self.first_run: list[FleetClient] = []

    def run(self) -> KillRunFigures:
        try:
            self._set_up()
            self._rounds()
            self._settle()
            self._log_in_again()
            self._count()
        finally:
            if self.fleet is not None:
                self.fleet.stop_all()
            self.servers.close()
        return self.figures

    # -- steps ---------------------------------------------------------------

    def _wait(self, done: Callable[[], bool], what: str, timeout: float = GUARD) -> bool:
        assert self.fleet is not None
        if self.fleet.pump(done, timeout):
            return True
        self.figures.problems.append(f"timed out after {timeout:g} s waiting for {what}")
        return False

    def _set_up(self) -> None:
        self.server = self.servers.start(extra_args=SERVER_ARGS)
        self.fleet = Fleet(self.folder, self.server.port)
        self._populate()

    def _populate(self) -> None:
        """Accounts, groups, and the fleet's clients, all logged in."""
        assert self.server is not None and self.fleet is not None
        accounts = kit.accounts(self.server, self.fleet.data, self.size.clients + 1)
        self.probe = accounts.pop()
        self.users = [user for user, _ in accounts]
        # Groups are made over the wire while everyone is offline, so that every member's
        # client learns its group from the queue at login and no client has a group open:
        # a creator's client opens its new group, and an open group meets a client bug
        # (test_client_reads.py::test_client_group_read_mark_covers_late_arrivals).
        step = self.size.group_size
        for start in range(0, len(accounts), step):
            block = accounts[start:start + step]
            if len(block) > 1:
                self._make_group(*block[0], tuple(user for user, _ in block[1:]))
        clients = self.fleet.start(self.users, "--timeout", str(CLIENT_TIMEOUT))
        self._wait(lambda: all(c.counts["logged_in"] for c in clients), "every login")

    def _make_group(self, creator: str, token: str, members: tuple[str, ...]) -> None:
        assert self.server is not None
        client = WireClient.connect(*self.server.address, name="creator")
        try:
            client.login(creator, token)
            client.send(ev.CreateGroup(creator, int(time.time()), members))
            created = client.expect_next(ev.GroupCreated)
            assert isinstance(created, ev.GroupCreated)
            client.leave()
        finally:
            client.close()
        self.groups[created.group] = created.members
        for member in created.members:
            self.group_of[member] = created.group

    def _accepted(self) -> int:
        """Own messages known to be stored: a 16 came, or a 07 came before it (a 16 lost
        with a killed server, the 07 queued behind the login that came before the resend)."""
        assert self.fleet is not None
        return sum(len(c.keys("accepted") | c.keys("delivered")) for c in self.fleet.clients)

    def _rounds(self) -> None:
        """A round per kill, and a last one without."""
        for round_ in range(self.size.kills + 1):
            self._round(round_, kill=round_ < self.size.kills)

    def _round(self, round_: int, *, kill: bool) -> None:
        assert self.fleet is not None and self.server is not None
        before = len(self.sent)
        for index, client in enumerate(self.fleet.clients):
            lines = []
            for number in range(self.size.per_round):
                peer = self._pick_peer(client.user)
                text = f"r{round_}-c{index}-n{number}"
                self.sent.append((client.user, peer, text))
                lines.append(f"/send {peer} {text}")
            client.feed(*lines)
        if not kill:
            return
        fed = len(self.sent) - before
        threshold = before + self.rng.randint(1, fed - 1)
        self._wait(lambda: self._accepted() >= threshold, f"{threshold} messages accepted")
        self._fault()

    def _fault(self) -> None:
        """kill -9 of the server, and its restart on the same port and database."""
        assert self.server is not None
        self.server.kill()
        self.figures.in_flight.append(len(self.sent) - self._accepted())
        self._restart()

    def _pick_peer(self, user: str) -> str:
        group = self.group_of.get(user)
        if group is not None and self.rng.random() < self.size.group_share:
            return group
        return self.rng.choice([u for u in self.users if u != user])

    def _restart(self) -> None:
        assert self.fleet is not None and self.server is not None
        started = time.monotonic()
        self.server = self.servers.start(port=self.server.port, extra_args=SERVER_ARGS)
        self.figures.listening.append(time.monotonic() - started)
        probe = WireClient.connect(*self.server.address, name="probe")
        try:
            probe.login(*self.probe)
            self.figures.first_login.append(time.monotonic() - started)
        finally:
            probe.close()
        clients = self.fleet.clients
        if self._wait(lambda: all(c.seen("reconnected", started) for c in clients),
                      "every client to reconnect"):
            back = max(c.first_at("reconnected", started) for c in clients)
            self.figures.all_back.append(back - started)

    def _recipients(self, author: str, peer: str) -> list[str]:
        if peer in self.groups:
            return [m for m in self.groups[peer] if m != author]
        return [peer]

    def _settle(self) -> None:
        """Everything accepted and received, everything read; then everyone leaves."""
        assert self.fleet is not None
        clients = self.fleet.clients
        self._wait(lambda: self._accepted() >= len(self.sent), "every message accepted")
        owed: Counter[str] = Counter()
        for author, peer, _ in self.sent:
            owed.update(self._recipients(author, peer))
        self._wait(lambda: all(c.counts["message"] >= owed[c.user] for c in clients),
                   "every message received")
        for client in clients:
            peers = sorted({event["peer"] for event in client.seen("message")})
            client.feed(*(f"/read {peer}" for peer in peers))
        for client in clients:
            client.feed(*(f"/wait read {peer}" for peer in self._peers_of(client.user)))
        self._finish("the first run")

    def _peers_of(self, user: str) -> list[str]:
        return sorted({peer for author, peer, _ in self.sent if author == user})

    def _finish(self, run: str) -> None:
        assert self.fleet is not None
        for user, status in self.fleet.finish(FINISH_GUARD).items():
            if status != 0:
                self.figures.problems.append(f"{user} exited with {status} after {run}")
        for client in self.fleet.clients:
            for event in client.seen("error"):
                self.figures.problems.append(f"{client.user} ({run}): {event}")

    def _log_in_again(self) -> None:
        """Everyone logs in once more; what is still owed comes now or never."""
        assert self.fleet is not None
        self.first_run = self.fleet.clients
        clients = self.fleet.start(self.users, "--timeout", "5")  # all should be there
        for client in clients:
            client.feed(*(f"/wait read {peer}" for peer in self._peers_of(client.user)))
        self._finish("logging in again")

    # -- figures ---------------------------------------------------------------

    def _count(self) -> None:
        assert self.fleet is not None
        figures = self.figures
        figures.sent = len(self.sent)
        states = {}
        for user in self.users:
            state = State(user)
            history = History(profile.account_dir(self.fleet.data, user), state, readonly=True)
            figures.problems += [f"{user}: {warning}" for warning in history.warnings]
            history.close()
            states[user] = state
        delivered = {(c.user, *key) for c in [*self.first_run, *self.fleet.clients]
                     for key in c.keys("delivered")}
        for author, peer, text in self.sent:
            own = [m for m in states[author].conversation(peer).messages
                   if m.own and m.text == text]
            if len(own) != 1:
                figures.problems.append(f"{author} holds {len(own)} own copies of {text!r}")
                continue
            message = own[0]
            if message.tick is None or message.tick < Tick.ACCEPTED:
                continue
            figures.accepted += 1
            for recipient in self._recipients(author, peer):
                figures.copies += 1
                if message.key in states[recipient].messages:
                    figures.stored += 1
                else:
                    figures.lost.append(f"{text} ({author} -> {peer}) for {recipient}")
            if (author, peer, message.ts) not in delivered:
                figures.no_delivered.append(f"{text} ({author} -> {peer})")
            if message.tick is not Tick.READ:
                figures.no_read.append(f"{text} ({author} -> {peer}): {message.tick.name}")
        for user, state in states.items():
            for conv in state.conversations.values():
                texts = Counter(m.text for m in conv.messages if not m.own)
                figures.twice += [f"{text} for {user}" for text, n in texts.items() if n > 1]


def kill_run(folder: Path, size: KillRunSize, backend: Backend = SQLITE) -> KillRunFigures:
    """Run the kill-run in `folder` (servers, clients and their data all live there; the
    server's database is a fresh one of `backend`)."""
    return KillRun(folder, size, backend).run()


