"""Flood bans (PROTOCOL.md 5.7, error 10): FloodBans and the Tarpit on their own (how long
an address stays banned, which addresses never are, what a held connection hears and
when, the bounds), then end to end on loopback.

The end-to-end tests flood from 127.0.0.1, which the server trusts by default; the
tests of the ban itself pass `--trusted ''`. Nothing sleeps: each waits for the frame or
the close it expects; the timeouts are guards, except the one-second promise of a 13.
"""

import re
import socket
import time
from ipaddress import ip_network

import pytest
from wire import ClientFactory, ServerFactory, ServerProcess, WireClient

from interzap_server.cli import parse_args
from interzap_server.limits import FloodBans
from interzap_server.tarpit import Tarpit
from shared import events as ev
from shared.codes import ErrorCode

BURST = 10
FLOOD = ["--rate-limit", "20", "--rate-burst", str(BURST)]
"""20 frames a second after a burst of 10: a burst sent in one write is counted exactly."""
TOLD_WITHIN = 1.0
"""A held connection hears its 13/10 within this many seconds (it is sent on accept)."""
DEADLINE_GUARD = 5.0
"""A ban of 2 s is over 2 s after the cut; plus slack."""
LOOPBACK = (ip_network("127.0.0.0/8"), ip_network("::1"))
CLOCK_BOUND = pytest.mark.sqlite_only(
    "waits out the ban's timer in the loop, where the store plays no part: "
    "once keeps make test short")


# -- FloodBans --------------------------------------------------------------------------


def test_ban_lasts_its_seconds_and_is_renewed() -> None:
    bans = FloodBans(10.0)
    assert bans.ban("10.0.0.1", now=100.0)
    assert bans.remaining("10.0.0.1", 104.0) == 6.0
    assert bans.remaining("10.0.0.2", 104.0) == 0.0
    assert bans.remaining("10.0.0.1", 110.0) == 0.0
    bans.ban("10.0.0.1", now=108.0)  # cut again: the ban starts afresh
    assert bans.remaining("10.0.0.1", 110.0) == 8.0


def test_zero_seconds_bans_nobody() -> None:
    bans = FloodBans(0.0)
    assert not bans.ban("10.0.0.1", now=100.0)
    assert bans.remaining("10.0.0.1", 100.0) == 0.0


@pytest.mark.parametrize(("host", "trusted"), [
    pytest.param("127.0.0.1", True, id="loopback"),
    pytest.param("127.3.2.1", True, id="loopback-slash-8"),
    pytest.param("::1", True, id="ipv6-loopback"),
    pytest.param("::ffff:127.0.0.1", True, id="ipv4-mapped-loopback"),
    pytest.param("10.0.0.1", False, id="other"),
    pytest.param("::ffff:10.0.0.1", False, id="ipv4-mapped-other"),
    pytest.param("::2", False, id="ipv6-other"),
])
def test_ban_spares_trusted_networks(host: str, trusted: bool) -> None:
    """An address in a trusted network (an IPv4-mapped one as its IPv4) is never banned."""
    bans = FloodBans(10.0, LOOPBACK)
    assert bans.trusts(host) is trusted
    assert bans.ban(host, now=100.0) is not trusted
    assert (bans.remaining(host, 100.0) == 0.0) is trusted


def test_prune_forgets_ended_bans_and_capacity_forgets_the_oldest() -> None:
    bans = FloodBans(10.0, capacity=2)
    bans.ban("a", now=0.0)
    bans.ban("b", now=5.0)
    bans.ban("c", now=6.0)  # over capacity: "a", the oldest, goes early
    assert len(bans) == 2
    assert bans.remaining("a", 7.0) == 0.0
    assert bans.remaining("b", 7.0) == 8.0
    bans.prune(15.5)  # "b" ended at 15
    assert len(bans) == 1
    assert bans.remaining("c", 15.5) == 0.5


# -- --trusted --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "networks"), [
    pytest.param(None, LOOPBACK, id="default-loopback"),
    pytest.param("", (), id="empty-trusts-none"),
    pytest.param(" 10.0.0.0/8 , 192.0.2.7,fd00::/8", (
        ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32"), ip_network("fd00::/8")),
        id="list-of-networks-and-addresses"),
])
def test_trusted_option_reads_a_list_of_networks(value: str | None, networks: tuple) -> None:
    """--trusted takes a comma list of networks or addresses; '' trusts none."""
    argv = [] if value is None else ["--trusted", value]
    assert parse_args(argv).trusted == networks


@pytest.mark.parametrize("value", [
    pytest.param("localhost", id="a-name"),
    pytest.param("10.0.0.1/8", id="host-bits-set"),
    pytest.param("127.0.0.0/8,::1/129", id="one-bad-prefix"),
])
def test_trusted_option_refuses_a_bad_network(value: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A --trusted item that is not a network is a usage error (exit 2) naming it."""
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--trusted", value])
    assert exit_.value.code == 2
    assert "argument --trusted:" in capsys.readouterr().err


# -- Tarpit -----------------------------------------------------------------------------


def told(seconds: int) -> bytes:
    return b"1310this address was cut for flooding; try again in %d s\n" % seconds


def test_tarpit_holds_half_a_second_then_tells_and_closes() -> None:
    """A held connection hears nothing for HOLD seconds, then 13/10 with the seconds its ban
    has left, and is closed; past a bound, that comes at once."""
    tarpit = Tarpit(per_address=2, in_all=3, hold=0.5)
    pairs = [socket.socketpair() for _ in range(4)]
    clients = [client for _, client in pairs]
    for client in clients:
        client.settimeout(5.0)  # a guard: every answer read below is already written
    tarpit.hold(pairs[0][0], "a", False, banned_until=10.0, now=0.0)
    tarpit.hold(pairs[1][0], "a", False, banned_until=10.0, now=0.1)
    tarpit.hold(pairs[2][0], "a", False, banned_until=10.0, now=0.1)  # a third from "a"
    assert clients[2].recv(100) == told(10)
    assert clients[2].recv(100) == b""  # closed at once
    tarpit.hold(pairs[3][0], "b", False, banned_until=12.0, now=0.2)
    assert len(tarpit) == 3
    assert tarpit.next_release() == 0.5
    tarpit.release(now=0.4)
    assert len(tarpit) == 3
    tarpit.release(now=0.6)
    assert len(tarpit) == 1
    assert tarpit.next_release() == 0.7
    tarpit.release(now=0.7)
    assert len(tarpit) == 0
    assert tarpit.next_release() is None
    for client, seconds in ((clients[0], 10), (clients[1], 10), (clients[3], 12)):
        assert client.recv(100) == told(seconds)
        assert client.recv(100) == b""
    for client in clients:
        client.close()


def test_tarpit_tells_a_client_that_already_sent_something() -> None:
    """The 13 survives the close of a connection whose client sent a frame (a login) that
    was never read: what it sent is dropped first, so the close is not a reset."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5.0)
        held, _ = listener.accept()
    with client:
        client.sendall(b"03Client-000001" + b"0" * 32 + b"\n")
        tarpit = Tarpit()
        tarpit.hold(held, "127.0.0.1", False, banned_until=10.0, now=0.0)
        tarpit.release(now=1.0)
        assert client.recv(100) == told(9)
        assert client.recv(100) == b""


def test_tarpit_closes_tls_without_a_word_and_everything_at_shutdown() -> None:
    """Nothing can be said before a TLS handshake: a held TLS connection is only closed.
    At shutdown every held connection goes, however recent."""
    tarpit = Tarpit(hold=0.5)
    server, client = socket.socketpair()
    plain_server, plain_client = socket.socketpair()
    for sock in (client, plain_client):
        sock.settimeout(5.0)
    tarpit.hold(server, "a", True, banned_until=10.0, now=0.0)
    tarpit.hold(plain_server, "b", False, banned_until=10.0, now=0.0)
    tarpit.release(now=0.0, everything=True)
    assert len(tarpit) == 0
    assert client.recv(100) == b""
    assert plain_client.recv(100) == told(10)
    for sock in (client, plain_client):
        sock.close()


# -- end to end -------------------------------------------------------------------------


def flood_until_cut(client: WireClient) -> None:
    """Ping far past the burst: answered, then refused (13/10), then closed."""
    client.send(*[ev.Ping()] * (4 * BURST))
    frames = client.drain_until_closed()
    assert frames.count(ev.Pong()) == BURST
    assert ev.Error in {type(frame) for frame in frames}
    assert all(frame.code == ErrorCode.RATE_LIMITED
               for frame in frames if isinstance(frame, ev.Error))


@CLOCK_BOUND
def test_flood_ban_spares_a_trusted_neighbour(server_factory: ServerFactory,
                                              client_factory: ClientFactory) -> None:
    """With the default trusted networks, a local flooder is still refused and cut, but
    its address is not banned: a client connecting from it right after is greeted and
    served at once."""
    server = server_factory.start(extra_args=[*FLOOD, "--flood-ban", "60"])
    flood_until_cut(client_factory.connect(server, name="flooder"))
    neighbour = client_factory.connect(server, name="neighbour", greet=False)
    neighbour.read_greeting(timeout=TOLD_WITHIN)
    neighbour.register()
    neighbour.assert_silent()


def ban_test_server(server_factory: ServerFactory, ban: float) -> ServerProcess:
    """A server that bans loopback flooders for `ban` seconds."""
    return server_factory.start(extra_args=[*FLOOD, "--flood-ban", f"{ban:g}", "--trusted", ""])


def expect_told(client: WireClient) -> int:
    """The 13/10 a banned address hears within TOLD_WITHIN seconds, and then the close;
    returns the seconds it says the ban has left."""
    refusal = client.expect_error(ErrorCode.RATE_LIMITED, timeout=TOLD_WITHIN)
    found = re.fullmatch(r"this address was cut for flooding; try again in (\d+) s",
                         refusal.reason)
    assert found, refusal
    client.expect_closed()
    return int(found[1])


@CLOCK_BOUND
def test_flood_ban_tells_a_held_connection_within_a_second(
        server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """With --trusted '', a new connection from a banned address is not greeted: within a
    second it hears 13/10 with the seconds its ban has left, and is closed."""
    server = ban_test_server(server_factory, 60)
    flood_until_cut(client_factory.connect(server, name="flooder"))
    held = client_factory.connect(server, name="held", greet=False)
    assert 55 <= expect_told(held) <= 60


@CLOCK_BOUND
def test_flood_ban_refuses_the_address_until_it_ends(server_factory: ServerFactory,
                                                     client_factory: ClientFactory) -> None:
    """An address cut for flooding is banned for --flood-ban seconds, so that reconnecting
    buys no fresh burst; other addresses are served meanwhile, and so is the banned one
    once its ban is over."""
    server = ban_test_server(server_factory, 2)
    flood_until_cut(client_factory.connect(server, name="flooder"))
    expect_told(client_factory.connect(server, name="again", greet=False))
    neighbour = client_factory.connect(server, source="127.0.0.2")  # greeted
    neighbour.register()
    deadline = time.monotonic() + DEADLINE_GUARD
    while True:  # each attempt waits for the server's answer: no sleep
        late = client_factory.connect(server, name="late", greet=False)
        if isinstance(late.next_event(timeout=TOLD_WITHIN), ev.Greeting):
            break
        late.expect_closed()
        assert time.monotonic() < deadline, "the ban never ended"
    late.register()
