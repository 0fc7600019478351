"""End to end: the server process itself: start-up line, greeting, signals, restart."""

import signal

import pytest
from wire import ClientFactory, ServerFactory, ServerProcess

from shared import events as ev


def test_startup_prints_exactly_one_line(server_factory: ServerFactory,
                                         client_factory: ClientFactory) -> None:
    """The only thing on stdout is `listening on HOST:PORT`, flushed when ready."""
    server = server_factory.start()
    assert server.listening_line == f"listening on 127.0.0.1:{server.port}"
    client_factory.registered(server)
    server.terminate()
    assert server.read_rest_of_stdout() == b""


def test_greeting_is_first_frame(server: ServerProcess, client_factory: ClientFactory) -> None:
    """The first frame on every connection is `00Interzap/1`."""
    client = client_factory.connect(greet=False)
    assert client.next_event() == ev.Greeting("Interzap/1")


def test_ping_answered_before_login(server: ServerProcess, client_factory: ClientFactory) -> None:
    """A 14 is answered with 15, even before logging in."""
    client = client_factory.connect()
    client.send(ev.Ping())
    client.expect_next(ev.Pong())


def test_ping_answered_after_login(client_factory: ClientFactory) -> None:
    """A 14 is answered with 15 on a logged-in connection."""
    client = client_factory.registered()
    client.send(ev.Ping(), ev.Ping())
    client.expect_next(ev.Pong())
    client.expect_next(ev.Pong())


@pytest.mark.parametrize("signum", [
    pytest.param(signal.SIGTERM, id="sigterm"),
    pytest.param(signal.SIGINT, id="sigint"),
])
def test_signal_exits_zero(server_factory: ServerFactory, client_factory: ClientFactory,
                           signum: int) -> None:
    """SIGTERM and SIGINT stop the server cleanly: exit code 0."""
    server = server_factory.start()
    client_factory.registered(server)
    assert server.signal(signum) == 0


@pytest.mark.parametrize("signum", [
    pytest.param(signal.SIGTERM, id="sigterm"),
    pytest.param(signal.SIGINT, id="sigint"),
])
def test_signal_right_after_ready_exits_zero(server_factory: ServerFactory, signum: int) -> None:
    """Once `listening on` is printed, SIGTERM and SIGINT already mean a clean exit 0."""
    server = server_factory.start()
    assert server.signal(signum) == 0, server.log_tail()


def test_signal_closes_connections(server_factory: ServerFactory,
                                   client_factory: ClientFactory) -> None:
    """On SIGTERM the server closes every client socket."""
    server = server_factory.start()
    logged_in = client_factory.registered(server)
    anonymous = client_factory.connect(server)
    assert server.terminate() == 0
    logged_in.expect_closed()
    anonymous.expect_closed()


def test_restart_same_port_at_once(server_factory: ServerFactory,
                                   client_factory: ClientFactory) -> None:
    """After SIGTERM a new server binds the same port at once (SO_REUSEADDR)."""
    first = server_factory.start()
    client = client_factory.registered(first)
    client.send(ev.Ping())
    client.expect_next(ev.Pong())  # a connection that lived: its port is in TIME_WAIT
    assert first.terminate() == 0
    second = server_factory.start(port=first.port)
    assert second.port == first.port
    client_factory.registered(second)


def test_restart_keeps_accounts(server_factory: ServerFactory,
                                client_factory: ClientFactory) -> None:
    """An account registered before a clean restart logs in with its token after it."""
    first = server_factory.start()
    user, token = client_factory.registered(first).credentials()
    assert first.terminate() == 0
    second = server_factory.start()
    client_factory.logged_in(user, token, second)
