"""Per-address limits (PROTOCOL.md 5.7, errors 16, 17, 18): the buckets and the limits on
their own, then end to end, each limit refusing one loopback address with its 13 while
another address and a trusted one go on.

The end-to-end servers trust 127.0.0.3 only (`--trusted 127.0.0.3`), and the clients
connect from 127.0.0.1, 127.0.0.2 and 127.0.0.3. Refill rates are an hour per token, so
that nothing comes back during a test; nothing sleeps.
"""

import logging
import re
from ipaddress import ip_network

import pytest
from wire import ClientFactory, ServerFactory, ServerProcess, WireClient

from interzap_server.addresses import LOG_EVERY, AddressLimits, Buckets, LogOnce, address_key
from shared import events as ev
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError

TRUSTED = "127.0.0.3"
LOOPBACK_ONLY = pytest.mark.sqlite_only(
    "the limits are the loop's, before any rule runs: the store plays no part, and once "
    "keeps make test short")
WRONG_TOKEN = "0" * 32


# -- the parts --------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "key"), [
    pytest.param("192.0.2.7", "192.0.2.7", id="ipv4"),
    pytest.param("::ffff:192.0.2.7", "192.0.2.7", id="ipv4-mapped"),
    pytest.param("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", id="ipv6-by-its-64"),
])
def test_address_key_counts_ipv6_by_its_64(host: str, key: str) -> None:
    """An IPv4 address is its own key (mapped or not); an IPv6 one counts as its /64."""
    assert address_key(host) == key


def test_buckets_burst_then_rate() -> None:
    """A key spends its burst, then gets a token back every 1/rate seconds."""
    buckets = Buckets(burst=2, per_second=0.5)
    for _ in range(2):
        assert buckets.wait("a", now=0.0) == 0
        buckets.take("a", now=0.0)
    assert buckets.wait("a", now=0.0) == 2.0
    assert buckets.wait("a", now=1.5) == 0.5
    assert buckets.wait("b", now=0.0) == 0  # another key: its own burst
    assert buckets.wait("a", now=2.0) == 0


def test_buckets_forget_full_keys_and_the_oldest_beyond_capacity() -> None:
    buckets = Buckets(burst=1, per_second=1.0, capacity=2)
    buckets.take("a", now=0.0)
    buckets.take("b", now=5.0)
    buckets.take("c", now=5.0)  # over capacity: "a" goes
    assert len(buckets) == 2
    buckets.prune(now=5.5)
    assert len(buckets) == 2  # b and c are half full
    buckets.prune(now=6.0)
    assert len(buckets) == 0


def test_log_once_says_a_limit_once_a_minute_with_what_it_hid(
        caplog: pytest.LogCaptureFixture) -> None:
    """Refusals of one limit for one address are logged once per LOG_EVERY seconds; the
    ones in between are counted and said once it is quiet."""
    once = LogOnce()
    with caplog.at_level(logging.WARNING, logger="interzap_server.addresses"):
        for second in range(10):
            once.refused("registration", "192.0.2.7", float(second), "too many")
        once.refused("registration", "192.0.2.8", 0.0, "too many")
        once.prune(LOG_EVERY)
    assert [record.getMessage() for record in caplog.records] == [
        "192.0.2.7: too many (said once a minute per address)",
        "192.0.2.8: too many (said once a minute per address)",
        "192.0.2.7: 9 more refused by the registration limit",
    ]


def limits(**overrides: float) -> AddressLimits:
    values = {"max_per_address": 2, "register_burst": 1, "register_per_hour": 60.0,
              "failed_login_burst": 1, "failed_logins_per_hour": 3600.0, **overrides}
    return AddressLimits((ip_network("10.0.0.0/8"),), **values)  # type: ignore[arg-type]


def refusal(item: object) -> int:
    assert isinstance(item, RemoteProtocolError), item
    return item.code


def test_limits_count_connections_per_address() -> None:
    """The third connection from one address is refused 13/17; a closed one frees its
    place; other and trusted addresses are not counted against it."""
    gate = limits()
    assert gate.connect("192.0.2.7", 0.0) is None
    assert gate.connect("192.0.2.7", 0.0) is None
    assert refusal(gate.connect("192.0.2.7", 0.0)) == ErrorCode.TOO_MANY_CONNECTIONS
    assert gate.connect("192.0.2.8", 0.0) is None
    assert all(gate.connect("10.1.2.3", 0.0) is None for _ in range(5))
    gate.disconnect("192.0.2.7")
    assert gate.connections("192.0.2.7") == 2
    gate.disconnect("192.0.2.7")
    assert gate.connect("192.0.2.7", 0.0) is None


def test_limits_register_burst_then_refusal_with_minutes() -> None:
    """A 01 past the burst gets 13/16, saying in minutes when the next token comes."""
    gate = limits()
    assert gate.screen("192.0.2.7", ev.Register(), 0.0) == ev.Register()
    refused = gate.screen("192.0.2.7", ev.Register(), 0.0)
    assert refusal(refused) == ErrorCode.TOO_MANY_ACCOUNTS
    assert isinstance(refused, RemoteProtocolError)
    assert refused.reason == "too many accounts from this address; try again in 1 min"
    assert gate.screen("192.0.2.7", ev.Register(), 60.0) == ev.Register()


def test_limits_invite_costs_a_registration() -> None:
    """A 20 spends the address's registrations as a 01 does: invite codes are guessed no
    faster than accounts are made."""
    gate = limits()
    invite = ev.RegisterInvite("2" * 16)
    assert gate.screen("192.0.2.7", invite, 0.0) is invite
    assert refusal(gate.screen("192.0.2.7", ev.Register(), 0.0)) == ErrorCode.TOO_MANY_ACCOUNTS
    assert refusal(gate.screen("192.0.2.7", invite, 0.0)) == ErrorCode.TOO_MANY_ACCOUNTS


def test_limits_failed_logins_refuse_03s_unchecked() -> None:
    """Once an address has used its burst of failures, its 03s are refused 13/18 until a
    token is back; a 03 costs nothing unless it fails."""
    gate = limits()
    login = ev.Login("Client-000001", WRONG_TOKEN)
    for _ in range(3):
        assert gate.screen("192.0.2.7", login, 0.0) is login  # not failed yet: free
    gate.failed_login("192.0.2.7", 0.0)
    refused = gate.screen("192.0.2.7", login, 0.5)
    assert refusal(refused) == ErrorCode.TOO_MANY_FAILED_LOGINS
    assert isinstance(refused, RemoteProtocolError)
    assert refused.reason == "too many failed logins from this address; try again in 1 s"
    assert gate.screen("192.0.2.7", login, 1.0) is login


def test_limits_zero_turns_each_off() -> None:
    gate = limits(max_per_address=0, register_burst=0, failed_login_burst=0)
    assert all(gate.connect("192.0.2.7", 0.0) is None for _ in range(100))
    for _ in range(100):
        gate.failed_login("192.0.2.7", 0.0)
        assert gate.screen("192.0.2.7", ev.Register(), 0.0) == ev.Register()
        assert gate.screen("192.0.2.7", ev.Login("Client-000001", WRONG_TOKEN), 0.0) \
            == ev.Login("Client-000001", WRONG_TOKEN)


# -- end to end -------------------------------------------------------------------------


def limited(server_factory: ServerFactory, *args: str) -> ServerProcess:
    return server_factory.start(extra_args=["--trusted", TRUSTED, *args])


def expect_refusal(client: WireClient, code: ErrorCode, pattern: str) -> None:
    refused = client.expect_error(code)
    assert re.fullmatch(pattern, refused.reason), refused


@LOOPBACK_ONLY
def test_register_limit_is_per_address(server_factory: ServerFactory,
                                       client_factory: ClientFactory) -> None:
    """Past --register-burst, a 01 from that address gets 13/16 (the connection stays
    usable); another address and a trusted one still register."""
    server = limited(server_factory, "--register-burst", "2", "--register-per-hour", "1")
    for _ in range(2):
        client_factory.connect(server).register()
    refused = client_factory.connect(server)
    refused.send(ev.Register())
    expect_refusal(refused, ErrorCode.TOO_MANY_ACCOUNTS,
                   r"too many accounts from this address; try again in 60 min")
    refused.assert_silent()
    client_factory.connect(server, source="127.0.0.2").register()
    for _ in range(3):
        client_factory.connect(server, source=TRUSTED).register()


@LOOPBACK_ONLY
def test_connection_limit_is_per_address(server_factory: ServerFactory,
                                         client_factory: ClientFactory) -> None:
    """Past --max-per-address, a new connection from that address gets 13/17 instead of
    the greeting and is closed; closing one makes room; other addresses are greeted."""
    server = limited(server_factory, "--max-per-address", "2")
    held = [client_factory.connect(server) for _ in range(2)]
    crowded = client_factory.connect(server, greet=False)
    expect_refusal(crowded, ErrorCode.TOO_MANY_CONNECTIONS,
                   r"too many connections from this address \(2\); close one and try again")
    crowded.expect_closed()
    client_factory.connect(server, source="127.0.0.2").register()
    for _ in range(3):
        client_factory.connect(server, source=TRUSTED)
    held[0].leave()  # returns once the server has closed its side
    client_factory.connect(server).register()


@LOOPBACK_ONLY
def test_failed_login_limit_is_per_address(server_factory: ServerFactory,
                                           client_factory: ClientFactory) -> None:
    """Past --failed-login-burst failures, 03s from that address get 13/18 unchecked, a
    right token too; the same account logs in from another address; a trusted address
    may fail on."""
    server = limited(server_factory, "--failed-login-burst", "2",
                     "--failed-logins-per-hour", "1")
    user, token = client_factory.connect(server, source=TRUSTED).register()
    client = client_factory.connect(server)
    for _ in range(2):
        client.send(ev.Login(user, WRONG_TOKEN))
        client.expect_error(ErrorCode.BAD_CREDENTIALS)
    client.send(ev.Login(user, token))
    expect_refusal(client, ErrorCode.TOO_MANY_FAILED_LOGINS,
                   r"too many failed logins from this address; try again in \d+ s")
    client_factory.connect(server, source="127.0.0.2").login(user, token)
    trusted = client_factory.connect(server, source=TRUSTED)
    for _ in range(3):
        trusted.send(ev.Login(user, WRONG_TOKEN))
        trusted.expect_error(ErrorCode.BAD_CREDENTIALS)


@LOOPBACK_ONLY
def test_limits_spare_loopback_by_default(server_factory: ServerFactory,
                                          client_factory: ClientFactory) -> None:
    """With the default --trusted (loopback), a burst of 1 limits nobody on the machine."""
    server = server_factory.start(extra_args=["--register-burst", "1",
                                              "--max-per-address", "1"])
    for source in ("127.0.0.1", "127.0.0.1", "127.0.0.2"):
        client_factory.connect(server, source=source).register()
