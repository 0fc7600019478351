"""Floods at the default flood limit (PROTOCOL.md 5.7): the flooder is refused (13/10) and
cut, while ten ordinary clients finish their 1:1 exchanges.

No timing is asserted here (soak/hostile.py measures the others' p99 latency,
with flooders that never wait). Here the flooder is pumped between the ordinary
clients' steps, one write of CHUNK frames at a time, reading the answers to
each write before the next, so that every answer can be counted.
"""

import pytest
from wire import (
    ClientFactory,
    ConnectionClosed,
    ServerFactory,
    ServerProcess,
    WireClient,
    timestamp,
)

from interzap_server.settings import Settings
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

DEFAULTS = Settings()
DEFAULT_LIMITS = ["--rate-limit", f"{DEFAULTS.rate_limit:g}",
                  "--rate-burst", str(DEFAULTS.rate_burst)]
"""The server's own defaults, spelt out: the test harness turns the limit off otherwise."""
PAIRS = 5
ROUNDS = 20
"""Messages each ordinary client sends: far below the burst, so none of them is refused."""
GUARD_FRAMES = 100_000
"""Frames a flooder may send before the test gives up on it being cut."""


class Flooder:
    """A connection that sends one frame over and over, CHUNK at a time, reading the answers
    to each chunk before the next: as fast as the server answers."""

    CHUNK = 300
    """Frames a write: the first write passes the burst, the second ends a refused burst."""

    def __init__(self, server: ServerProcess, frame: bytes, login: bytes = b"") -> None:
        self.client = WireClient.connect(*server.address, name="flooder")
        if login:
            self.client.send_raw(login)
            self.client.expect_next(ev.LoggedIn)
        self.frame = frame
        self.answers: list[ev.Event] = []
        self.sent = 0
        self.closed = False

    def pump(self) -> None:
        """One chunk, and its answers (a 16 or 13 per 05, a 15 or 13 per 14)."""
        if self.closed:
            return
        try:
            self.client.send_raw(self.frame * self.CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True
            return
        self.sent += self.CHUNK
        answered = 0
        while answered < self.CHUNK:
            try:
                answer = self.client.next_event()
            except ConnectionClosed:
                self.closed = True
                return
            self.answers.append(answer)
            answered += isinstance(answer, ev.Pong | ev.Accepted | ev.Error)

    def until_closed(self) -> None:
        while not self.closed:
            assert self.sent < GUARD_FRAMES, "the flooder was never cut"
            self.pump()

    def count(self, code: int) -> int:
        return sum(isinstance(a, ev.Error) and a.code == code for a in self.answers)

    def close(self) -> None:
        self.client.close()


def exchange(pairs: list[tuple[WireClient, WireClient]], flooder: Flooder) -> None:
    """Each pair writes to each other ROUNDS times: 05 -> 16, 06 -> 12 -> 07; the flooder
    is pumped between steps."""
    base = timestamp()
    for round_ in range(ROUNDS):
        for a, b in pairs:
            for sender, recipient in ((a, b), (b, a)):
                sender.send(ev.Send(sender.user, recipient.user, base + round_, f"r{round_}"))
        flooder.pump()
        for a, b in pairs:
            for sender, recipient in ((a, b), (b, a)):
                sender.expect(ev.Accepted(recipient.user, base + round_))
                recipient.expect(ev.Deliver(sender.user, recipient.user, base + round_,
                                            f"r{round_}"))
                recipient.send(ev.Receipt(sender.user, recipient.user, base + round_))
        flooder.pump()
        for a, b in pairs:
            for sender, recipient in ((a, b), (b, a)):
                sender.expect(ev.Delivered(recipient.user, base + round_))
    for a, b in pairs:
        a.assert_silent()
        b.assert_silent()


def ordinary_pairs(server: ServerProcess,
                   client_factory: ClientFactory) -> list[tuple[WireClient, WireClient]]:
    clients = [client_factory.registered(server, name=f"ordinary{i}") for i in range(2 * PAIRS)]
    return list(zip(clients[::2], clients[1::2], strict=True))


@pytest.fixture
def limited(server_factory: ServerFactory) -> ServerProcess:
    """A server with the default flood limit (100 frames a second, bursts of 200)."""
    return server_factory.start(extra_args=DEFAULT_LIMITS)


def test_flood_pinger_refused_and_cut_while_ten_clients_exchange(
        limited: ServerProcess, client_factory: ClientFactory) -> None:
    """A client sending 14s as fast as it can gets 15s, then 13/10, then is closed, while
    ten ordinary clients complete every exchange."""
    pairs = ordinary_pairs(limited, client_factory)
    flooder = Flooder(limited, encode(ev.Ping()))
    try:
        exchange(pairs, flooder)
        flooder.until_closed()
    finally:
        flooder.close()
    pongs = flooder.answers.count(ev.Pong())
    assert DEFAULTS.rate_burst <= pongs < flooder.sent
    assert flooder.count(ErrorCode.RATE_LIMITED) >= DEFAULTS.rate_burst
    first_refusal = next(i for i, a in enumerate(flooder.answers) if isinstance(a, ev.Error))
    assert flooder.answers[:first_refusal] == [ev.Pong()] * first_refusal


def test_flood_sender_refused_and_cut_while_ten_clients_exchange(
        limited: ServerProcess, client_factory: ClientFactory) -> None:
    """A logged-in client sending 05s as fast as it can gets 16s, then 13/10, then is
    closed, while ten ordinary clients complete every exchange."""
    pairs = ordinary_pairs(limited, client_factory)
    me = client_factory.registered(limited, name="flooder account")
    me.leave()
    ts = timestamp()
    flood = encode(ev.Send(me.user, me.user, ts, "flood"))  # one key: retransmissions
    flooder = Flooder(limited, flood, login=encode(ev.Login(*me.credentials())))
    try:
        exchange(pairs, flooder)
        flooder.until_closed()
    finally:
        flooder.close()
    assert flooder.answers.count(ev.Accepted(me.user, ts)) >= DEFAULTS.rate_burst - 1
    assert flooder.answers.count(ev.Deliver(me.user, me.user, ts, "flood")) == 1
    assert flooder.count(ErrorCode.RATE_LIMITED) >= DEFAULTS.rate_burst


def test_flood_of_malformed_lines_refused_and_cut(limited: ServerProcess,
                                                  client_factory: ClientFactory) -> None:
    """A client sending malformed lines as fast as it can is refused (13/10) and cut like
    any flooder: each line costs the server a decode and a 13/01 of 42 bytes for 2 bytes."""
    pairs = ordinary_pairs(limited, client_factory)
    flooder = Flooder(limited, b"x\n")
    try:
        exchange(pairs, flooder)
        flooder.until_closed()
    finally:
        flooder.close()
    assert flooder.count(ErrorCode.RATE_LIMITED) >= DEFAULTS.rate_burst
