"""Metrics (metrics.py, metrics_http.py): the text format on its own, the HTTP answers on
their own, then a real server's page read with urllib while clients chat, and requests
that are not a scrape, none of which stops the loop.
"""

import re
import socket
import time
import urllib.error
import urllib.request

import pytest
from wire import ClientFactory, ServerFactory, ServerProcess, WireClient, error, timestamp

from interzap_server.limits import TokenBucket
from interzap_server.metrics import Histogram, Metrics
from interzap_server.metrics_http import DEADLINE, REQUEST_LIMIT, answer
from interzap_server.peer import Peer
from shared import events as ev
from shared.codes import ErrorCode

SAMPLE = re.compile(r'([a-z_]+)(?:\{(\w+)="([^"]*)"\})? (\S+)')
"""One sample line of the text format: name, optional label name and value, value."""
CLOCK_BOUND = pytest.mark.sqlite_only(
    "waits out the metrics port's deadline, where the store plays no part")


def parse(page: bytes) -> dict[str, float]:
    """Samples by `name` or `name{label=value}`, checking each family is declared first."""
    samples: dict[str, float] = {}
    declared: set[str] = set()
    for line in page.decode("utf-8").splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        found = SAMPLE.fullmatch(line)
        assert found, f"not a sample line: {line!r}"
        name, label, value, number = found.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in declared or family in declared, f"{name} has no # TYPE before it"
        samples[f'{name}{{{label}="{value}"}}' if label else name] = float(number)
    return samples


# -- the parts --------------------------------------------------------------------------


def test_histogram_buckets_are_cumulative() -> None:
    histogram = Histogram((0.01, 0.1))
    for seconds in (0.005, 0.05, 0.05, 3.0):
        histogram.observe(seconds)
    assert histogram.lines("t_seconds", "Test.") == [
        "# HELP t_seconds Test.", "# TYPE t_seconds histogram",
        't_seconds_bucket{le="0.01"} 1', 't_seconds_bucket{le="0.1"} 3',
        't_seconds_bucket{le="+Inf"} 4', "t_seconds_sum 3.105", "t_seconds_count 4"]


def test_metrics_count_frames_written_by_code() -> None:
    """02, 04, 16 and 06 are their counters, counted by the connection that is sent them
    (whatever follows the code); a 13 counts under its error code."""
    metrics = Metrics()
    server_side, client_side = socket.socketpair()
    peer = Peer(server_side, "127.0.0.1", 1, 1 << 20, TokenBucket(0, 0), 0.0, set(),
                metrics.heads)
    for frame in (b"02Client-000001" + b"0" * 32 + b"\n", b"04Client-000001\n",
                  b"1305there is no user Client-000009\n", b"1310slow down\n",
                  b"1310slow down\n", b"14\n", b"06Client-000001Client-0000021700000000hi\n",
                  b"06Client-000001Group-00000011700000000hi\n"):
        peer.write(frame)
    peer.close()
    client_side.close()
    samples = parse(metrics.render([("t_gauge", "A gauge.", 7)]))
    assert samples["interzap_registrations_total"] == 1
    assert samples["interzap_logins_total"] == 1
    assert samples["interzap_messages_accepted_total"] == 0
    assert samples["interzap_messages_delivered_total"] == 2
    assert samples['interzap_refused_total{code="05"}'] == 1
    assert samples['interzap_refused_total{code="10"}'] == 2
    assert samples["t_gauge"] == 7


@pytest.mark.parametrize(("request_bytes", "status"), [
    pytest.param(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, id="scrape"),
    pytest.param(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n", 200, id="query-ignored"),
    pytest.param(b"GET / HTTP/1.0\r\n\r\n", 404, id="other-path"),
    pytest.param(b"POST /metrics HTTP/1.0\r\n\r\n", 404, id="other-method"),
    pytest.param(b"\x16\x03\x01garbage\r\n\r\n", 400, id="no-request-line"),
    pytest.param(b"GET /metrics\r\n\r\n", 400, id="http-0.9"),
])
def test_answer_serves_only_get_metrics(request_bytes: bytes, status: int) -> None:
    reply = answer(request_bytes, lambda: b"page\n")
    assert reply.startswith(b"HTTP/1.0 %d " % status)
    assert reply.endswith(b"\r\n\r\npage\n") is (status == 200)


# -- end to end -------------------------------------------------------------------------


Address = tuple[str, int]


def metrics_server(server_factory: ServerFactory) -> tuple[ServerProcess, Address]:
    """A server with a metrics port, and that port's address."""
    server = server_factory.start(extra_args=["--metrics-port", "0"])
    return server, server.metrics_address()


def page_url(address: Address, path: str = "/metrics") -> str:
    return "http://{}:{}".format(*address) + path


def scrape(address: Address) -> dict[str, float]:
    with urllib.request.urlopen(page_url(address), timeout=10) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return parse(reply.read())


def raw_request(address: Address, data: bytes) -> bytes:
    """Send `data` on a connection of its own; everything the server says before closing."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def chat(alice: WireClient, bob: WireClient, count: int) -> None:
    """Alice sends `count` messages to Bob, who stores each (12)."""
    for n in range(count):
        ts = timestamp(n)
        alice.send(ev.Send(alice.user, bob.user, ts, f"hello {n}"))
        alice.expect(ev.Accepted(bob.user, ts))
        deliver = bob.expect(ev.Deliver)
        assert isinstance(deliver, ev.Deliver)
        bob.send(ev.Receipt(deliver.src, deliver.dst, deliver.ts))


def test_metrics_page_counts_a_chat(server_factory: ServerFactory,
                                    client_factory: ClientFactory) -> None:
    """Read with urllib while two clients chat: registrations, logins, accepted and
    delivered messages, refusals by code and the commit histogram move as they did."""
    server, address = metrics_server(server_factory)
    before = scrape(address)
    assert before["interzap_registrations_total"] == 0
    alice, bob = client_factory.registered(server), client_factory.registered(server)
    chat(alice, bob, 3)
    alice.send(ev.Send(alice.user, "Client-999999", timestamp(), "anyone?"))
    alice.expect(error(ErrorCode.UNKNOWN_PEER))  # after the 07s, perhaps
    user, token = bob.credentials()
    bob.leave()
    client_factory.logged_in(user, token, server)
    alice.sync()
    after = scrape(address)
    assert after["interzap_registrations_total"] == 2
    assert after["interzap_logins_total"] == 1
    assert after["interzap_messages_accepted_total"] == 3
    assert after["interzap_messages_delivered_total"] == 3
    assert after['interzap_refused_total{code="05"}'] == 1
    assert after["interzap_connections"] == 2
    assert after["interzap_logged_in"] == 2
    assert after["interzap_connections_accepted_total"] == 3
    commits = after["interzap_commit_seconds_count"]
    assert commits >= 3  # at least each accepted 05's batch
    assert after['interzap_commit_seconds_bucket{le="+Inf"}'] == commits


def test_metrics_port_survives_what_is_not_a_scrape(server_factory: ServerFactory,
                                                    client_factory: ClientFactory) -> None:
    """Garbage gets 400, another path 404, an endless header 400 after REQUEST_LIMIT
    bytes; a client that says nothing stalls nobody; chat and scrapes go on."""
    server, address = metrics_server(server_factory)
    with socket.create_connection(address, timeout=10):  # silent, held open
        assert raw_request(address, b"hello there\r\n\r\n").startswith(b"HTTP/1.0 400 ")
        assert raw_request(address, b"x" * (REQUEST_LIMIT + 100)).startswith(b"HTTP/1.0 400 ")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(page_url(address, "/admin"), timeout=10)
        assert refused.value.code == 404
        alice, bob = client_factory.registered(server), client_factory.registered(server)
        chat(alice, bob, 1)
        assert scrape(address)["interzap_messages_accepted_total"] == 1


@CLOCK_BOUND
def test_metrics_port_closes_a_silent_client(server_factory: ServerFactory) -> None:
    """A connection that never sends its request is closed after DEADLINE seconds (checked
    at the loop's once-a-second tick)."""
    _, address = metrics_server(server_factory)
    with socket.create_connection(address, timeout=DEADLINE + 5) as silent:
        assert silent.recv(100) == b""  # closed by the server, with nothing said


def test_metrics_page_counts_the_queues(server_factory: ServerFactory,
                                        client_factory: ClientFactory) -> None:
    """The frames queued in the database and the longest queue, read over HTTP: three
    messages to Bob while he is away are three frames in his queue."""
    server, address = metrics_server(server_factory)
    alice, bob = client_factory.registered(server), client_factory.registered(server)
    carol = client_factory.registered(server)
    bob.leave()
    for n in range(3):
        alice.send(ev.Send(alice.user, bob.user, timestamp(n), f"while away {n}"))
        alice.expect(ev.Accepted(bob.user, timestamp(n)))
    alice.send(ev.Send(alice.user, carol.user, timestamp(), "and you"))
    alice.expect(ev.Accepted(carol.user, timestamp()))
    # the census counts at each tick (once a second): scrape until a pass has seen them
    deadline = time.monotonic() + 10
    samples = scrape(address)
    while samples.get("interzap_largest_queue") != 3 and time.monotonic() < deadline:
        alice.sync()  # a round trip to the server between scrapes, not a sleep
        samples = scrape(address)
    assert samples["interzap_largest_queue"] == 3
    assert samples["interzap_queued_frames"] >= 3
