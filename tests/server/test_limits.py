"""End to end: the limits a public server needs (PROTOCOL.md 5.7): flood control (13/10),
login and ping timeouts (13/15), max connections (13/13), the queue cap (13/14), the output cap.

Each test starts its own server with tiny limits. Nothing sleeps: a test waits for
the frame or the close it expects. The loop checks login and ping deadlines once a
second, so the waits for those carry a guard of a few seconds.
"""

import resource
import select
import socket
import time

import pytest
from wire import ClientFactory, ServerFactory, ServerProcess, WireClient, error, timestamp

from bench.procstat import cpu_seconds
from shared import events as ev
from shared.codes import ErrorCode

BURST = 10
FLOOD = ["--rate-limit", "20", "--rate-burst", str(BURST)]
"""20 frames a second after a burst of 10: a burst sent in one write is counted exactly."""
DEADLINE_GUARD = 4.0
"""Deadlines of 0.5 s are checked by a once-a-second tick: 1.5 s at most, plus slack."""
CLOCK_BOUND = pytest.mark.sqlite_only(
    "waits out a timer of the loop, where the store plays no part: once keeps make test short")


def start(server_factory: ServerFactory, *args: str) -> ServerProcess:
    return server_factory.start(extra_args=args)


# -- flood control ----------------------------------------------------------------------


def test_flood_burst_answered_then_refused(server_factory: ServerFactory,
                                           client_factory: ClientFactory) -> None:
    """A burst of pings is answered; what passes the burst gets 13/10, in order."""
    server = start(server_factory, *FLOOD)
    client = client_factory.connect(server)
    client.send(*[ev.Ping()] * (BURST + 5))
    for _ in range(BURST):
        client.expect_next(ev.Pong())
    for _ in range(5):
        client.expect_error(ErrorCode.RATE_LIMITED)


def test_flood_pongs_are_free(server_factory: ServerFactory,
                              client_factory: ClientFactory) -> None:
    """15 costs no token: after 30 of them the 01 and pings still use the whole burst."""
    server = start(server_factory, *FLOOD)
    client = client_factory.connect(server)
    client.send(ev.Register(), *[ev.Pong()] * 30, *[ev.Ping()] * BURST)
    client.expect_next(ev.Registered)
    for _ in range(BURST - 1):  # the 01 took one token
        client.expect_next(ev.Pong())
    client.expect_error(ErrorCode.RATE_LIMITED)


def test_flood_useless_receipts_are_charged(server_factory: ServerFactory,
                                            client_factory: ClientFactory) -> None:
    """A 12 that acknowledges nothing costs a token; a stream of them is cut, unanswered."""
    server = start(server_factory, *FLOOD)
    client = client_factory.registered(server)
    receipt = ev.Receipt("Client-999998", client.user, timestamp())  # no such message
    client.send(*[receipt] * (4 * BURST))
    client.expect_closed()


@CLOCK_BOUND
def test_flood_connection_works_after_pause(server_factory: ServerFactory,
                                            client_factory: ClientFactory) -> None:
    """A refused client is not cut off: after a quiet moment the bucket is full again."""
    server = start(server_factory, *FLOOD, "--idle-ping", "0.5")
    client = client_factory.connect(server)
    client.answer_pings = False  # this test reads the idle 14 itself
    client.send(ev.Register(), *[ev.Ping()] * (BURST + 2))
    client.expect_next(ev.Registered)
    for _ in range(BURST - 1):
        client.expect_next(ev.Pong())
    for _ in range(3):
        client.expect_error(ErrorCode.RATE_LIMITED)
    # the idle ping comes after > 0.5 s of silence, which refills 10 tokens at 20/s
    client.expect_next(ev.Ping(), timeout=DEADLINE_GUARD)
    client.send(ev.Pong(), *[ev.Ping()] * BURST)
    for _ in range(BURST):
        client.expect_next(ev.Pong())


def test_flood_persistent_flooder_disconnected(server_factory: ServerFactory,
                                               client_factory: ClientFactory) -> None:
    """A client refused a whole burst in a row is answered 13/10 that often, then closed."""
    server = start(server_factory, *FLOOD)
    client = client_factory.connect(server)
    client.send(*[ev.Ping()] * (4 * BURST))
    for _ in range(BURST):
        client.expect_next(ev.Pong())
    for _ in range(BURST):
        client.expect_error(ErrorCode.RATE_LIMITED)
    client.expect_closed()


def test_flood_other_clients_unaffected(server_factory: ServerFactory,
                                        client_factory: ClientFactory) -> None:
    """Buckets are per connection: while one client floods, another's whole burst is served."""
    server = start(server_factory, *FLOOD)
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    flooder = client_factory.connect(server, name="flooder")
    flooder.send(*[ev.Ping()] * (4 * BURST))
    ts = timestamp()
    # alice's burst: the 01, this 05 and 8 pings
    alice.send(ev.Send(alice.user, bob.user, ts, "still here"), *[ev.Ping()] * (BURST - 2))
    alice.expect_next(ev.Accepted(bob.user, ts))
    for _ in range(BURST - 2):
        alice.expect_next(ev.Pong())
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "still here"))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    frames = flooder.drain_until_closed()
    assert frames.count(ev.Pong()) == BURST
    assert sum(map(error(ErrorCode.RATE_LIMITED), frames)) == BURST


# -- login timeout ----------------------------------------------------------------------


@CLOCK_BOUND
def test_login_timeout_closes_silent_connection(server_factory: ServerFactory,
                                                client_factory: ClientFactory) -> None:
    """A connection that never logs in gets 13/15 after --login-timeout and is closed."""
    server = start(server_factory, "--login-timeout", "0.5")
    client = client_factory.connect(server)
    client.expect_error(ErrorCode.TIMEOUT, timeout=DEADLINE_GUARD)
    client.expect_closed(timeout=DEADLINE_GUARD)


@CLOCK_BOUND
def test_login_timeout_closes_slowloris(server_factory: ServerFactory,
                                        client_factory: ClientFactory) -> None:
    """Bytes trickling in without ever finishing a frame do not extend the login deadline."""
    server = start(server_factory, "--login-timeout", "0.5")
    client = client_factory.connect(server)
    # one byte, then up to 0.1 s for the server to say anything, and so on; no LF ever
    for byte in b"03Client-000001" + b"0" * 60:
        if select.select([client.sock], [], [], 0.1)[0]:
            break
        client.send_raw(bytes([byte]))
    else:
        raise AssertionError("the slowloris was still served after 7 s")
    client.expect_error(ErrorCode.TIMEOUT, timeout=DEADLINE_GUARD)
    client.expect_closed(timeout=DEADLINE_GUARD)


@CLOCK_BOUND
def test_login_timeout_spares_logged_in(server_factory: ServerFactory,
                                        client_factory: ClientFactory) -> None:
    """A connection that logged in in time is not closed, even when older than the timeout."""
    server = start(server_factory, "--login-timeout", "0.5")
    member = client_factory.registered(server)
    idler = client_factory.connect(server)  # opened after `member`
    idler.expect_error(ErrorCode.TIMEOUT, timeout=DEADLINE_GUARD)
    idler.expect_closed(timeout=DEADLINE_GUARD)
    member.assert_silent()


# -- idle ping --------------------------------------------------------------------------

IDLE = ["--idle-ping", "0.5", "--ping-timeout", "0.5"]


@CLOCK_BOUND
def test_idle_ping_answered_keeps_connection(server_factory: ServerFactory,
                                             client_factory: ClientFactory) -> None:
    """A silent logged-in connection gets 14; answering 15 keeps it open, and it is pinged again."""
    server = start(server_factory, *IDLE)
    client = client_factory.registered(server)
    client.answer_pings = False  # this test reads the idle 14 itself
    client.expect_next(ev.Ping(), timeout=DEADLINE_GUARD)
    client.send(ev.Pong())
    # a second 14, not 13/15: the 15 counted as the answer
    client.expect_next(ev.Ping(), timeout=DEADLINE_GUARD)


@CLOCK_BOUND
def test_idle_ping_unanswered_closes(server_factory: ServerFactory,
                                     client_factory: ClientFactory) -> None:
    """A 14 left unanswered for --ping-timeout brings 13/15 and a close."""
    server = start(server_factory, *IDLE)
    client = client_factory.registered(server)
    client.answer_pings = False  # this test reads the idle 14 itself
    client.expect_next(ev.Ping(), timeout=DEADLINE_GUARD)
    client.expect_error(ErrorCode.TIMEOUT, timeout=DEADLINE_GUARD)
    client.expect_closed(timeout=DEADLINE_GUARD)


# -- max connections --------------------------------------------------------------------


def test_max_connections_refuses_one_more(server_factory: ServerFactory,
                                          client_factory: ClientFactory) -> None:
    """Above --max-connections a connection gets 13/13 instead of the greeting and is closed;
    the others keep working, and a freed place is given to the next one."""
    server = start(server_factory, "--max-connections", "3")
    first, second, third = (client_factory.registered(server) for _ in range(3))
    refused = client_factory.connect(server, greet=False)
    refused.expect_error(ErrorCode.SERVER_FULL)
    refused.expect_closed()
    for client in (first, second, third):
        client.assert_silent()
    first.leave()
    late = client_factory.connect(server)  # greeted
    late.register()
    late.assert_silent()


def test_descriptor_limit_raised_to_fit_max_connections(server_factory: ServerFactory) -> None:
    """At start the server raises its soft descriptor limit to --max-connections + 64,
    within the hard limit."""
    ours = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = 4096 if ours == resource.RLIM_INFINITY else min(4096, ours)
    server = server_factory.start(extra_args=["--max-connections", "1000"],
                                  fd_limits=(64, hard))
    with open(f"/proc/{server.pid}/limits") as limits:
        line = next(line for line in limits if line.startswith("Max open files"))
    assert line.split()[3:5] == [str(min(1064, hard)), str(hard)], line


def test_out_of_descriptors_pauses_accepting_without_spinning(
        server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """At the descriptor limit (EMFILE) the server neither dies nor spins on its listener:
    it stops accepting for a moment, serves the connections it has, and takes the waiting
    ones once descriptors are free again."""
    server = server_factory.start(extra_args=["--max-connections", "0"], fd_limits=(32, 32))
    first = client_factory.registered(server)
    # more than 32 descriptors can hold: the last ones wait in the listen backlog
    extra = [client_factory.connect(server, greet=False) for _ in range(30)]
    deadline = time.monotonic() + DEADLINE_GUARD
    while "accept failed" not in server.log_tail(200):
        assert time.monotonic() < deadline, "the descriptor limit was never reached"
        time.sleep(0.01)  # polling a log file: there is nothing to wait on
    # a window in the out-of-descriptors state: 1,000 pings, one at a time
    wall, cpu = time.monotonic(), cpu_seconds(server.pid)
    for _ in range(1000):
        first.assert_silent()
    wall, cpu = time.monotonic() - wall, cpu_seconds(server.pid) - cpu
    # a server spinning on its listener retries (and logs) the accept every iteration
    # and burns a core; CPU time comes in 10 ms ticks, so it is printed, not asserted
    failures = server.log_tail(100_000).count("accept failed")
    print(f"out of descriptors: {cpu:.2f} s of CPU in {wall:.2f} s, {failures} failed accepts")
    assert failures <= 2 + wall / 0.25, f"{failures} failed accepts in {wall:.2f} s"
    for client in extra[:-1]:
        client.close()
    extra[-1].read_greeting()  # taken once the others' descriptors were freed
    extra[-1].register()


# -- queue cap --------------------------------------------------------------------------


def fill(sender: WireClient, recipient: str, count: int, base: int) -> None:
    """Send `count` messages to `recipient` and see each accepted."""
    for i in range(count):
        sender.send(ev.Send(sender.user, recipient, base + i, f"message {i}"))
        sender.expect_next(ev.Accepted(recipient, base + i))


def test_max_queue_refuses_with_queue_full(server_factory: ServerFactory,
                                           client_factory: ClientFactory) -> None:
    """A 05 to a user owed --max-queue frames gets 13/14, not 16, and is never delivered;
    once the user acknowledges, sending works again."""
    server = start(server_factory, "--max-queue", "3")
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    bob.leave()
    base = timestamp()
    fill(alice, bob.user, 3, base)
    alice.send(ev.Send(alice.user, bob.user, base + 3, "one too many"))
    alice.expect_error(ErrorCode.QUEUE_FULL)
    alice.assert_silent()
    again = client_factory.logged_in(*bob.credentials(), server)
    for i in range(3):
        again.expect_next(ev.Deliver(alice.user, bob.user, base + i, f"message {i}"))
    again.assert_silent()
    again.send(*(ev.Receipt(alice.user, bob.user, base + i) for i in range(3)))
    for i in range(3):
        alice.expect_next(ev.Delivered(bob.user, base + i))
    alice.send(ev.Send(alice.user, bob.user, base + 3, "room again"))
    alice.expect_next(ev.Accepted(bob.user, base + 3))
    again.expect_next(ev.Deliver(alice.user, bob.user, base + 3, "room again"))
    again.assert_silent()


def test_max_queue_refuses_group_with_full_member(server_factory: ServerFactory,
                                                  client_factory: ClientFactory) -> None:
    """A 05 to a group one of whose members has a full queue gets 13/14 and reaches nobody."""
    server = start(server_factory, "--max-queue", "3")
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    carol = client_factory.registered(server)
    ts = timestamp()
    alice.send(ev.CreateGroup(alice.user, ts, (bob.user, carol.user)))
    created = alice.expect_next(ev.GroupCreated)
    assert isinstance(created, ev.GroupCreated)
    bob.expect_next(created)
    carol.expect_next(created)
    carol.leave()
    base = ts + 1
    fill(alice, carol.user, 3, base)
    alice.send(ev.Send(alice.user, created.group, base + 3, "to everyone"))
    alice.expect_error(ErrorCode.QUEUE_FULL)
    alice.assert_silent()
    bob.assert_silent()
    again = client_factory.logged_in(*carol.credentials(), server)
    for i in range(3):
        again.expect_next(ev.Deliver(alice.user, carol.user, base + i, f"message {i}"))
    again.assert_silent()


# -- output cap -------------------------------------------------------------------------


def test_output_cap_cuts_non_reader_and_keeps_its_queue(server_factory: ServerFactory,
                                                        client_factory: ClientFactory) -> None:
    """A client that does not read is cut at --output-cap; its messages come at its next
    login, once each, and the other clients are served meanwhile.

    The cap counts only what the kernel would not take: the server's send buffer
    (64 KiB) and the victim's receive buffer (made small here), so alice sends
    1,000 messages of about 850 bytes (850 KB), in rounds of 500.
    """
    server = start(server_factory, "--output-cap", "4096")
    victim = client_factory.registered(server, name="victim")
    victim.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    alice = client_factory.registered(server, name="alice")
    bystander = client_factory.registered(server, name="bystander")
    base = timestamp()
    text = "\N{GRINNING FACE}" * 200
    count, size = 1000, 500
    for first in range(0, count, size):
        alice.send(*(ev.Send(alice.user, victim.user, base + i, f"{i:04d}{text}")
                     for i in range(first, first + size)))
        for i in range(first, first + size):
            alice.expect_next(ev.Accepted(victim.user, base + i))
        bystander.assert_silent()
    delivered = victim.drain_until_closed(timeout=30)  # it was cut, without a 13
    assert len(delivered) < count
    assert not any(isinstance(frame, ev.Error) for frame in delivered)
    again = client_factory.logged_in(*victim.credentials(), server, name="victim again")
    for i in range(count):
        again.expect_next(ev.Deliver(alice.user, victim.user, base + i, f"{i:04d}{text}"))
    again.assert_silent()
    alice.assert_silent()
