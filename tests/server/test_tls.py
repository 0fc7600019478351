"""End to end: TLS listeners (PROTOCOL.md 1): the same frames inside TLS, plain and TLS
side by side, certificate checks, and handshakes that cannot stall the loop.

The certificates come from `trustme`: one CA for the module and a server
certificate for 127.0.0.1, written to a temporary folder.
"""

import socket
import ssl
from collections.abc import Iterator

import pytest
import trustme
from wire import ClientFactory, ServerFactory, WireClient, timestamp

from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode

HOST = "127.0.0.1"
DEADLINE_GUARD = 4.0
"""The login timeout of 0.5 s is checked by a once-a-second tick: 1.5 s at most, plus slack."""


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_args(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """--tls-cert and --tls-key for a certificate of 127.0.0.1 signed by `ca`."""
    folder = tmp_path_factory.mktemp("tls")
    leaf = ca.issue_cert(HOST)
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    return ["--tls-cert", str(cert), "--tls-key", str(key)]


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the module's CA (and checks the host name)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def raw_sockets() -> Iterator[list[socket.socket]]:
    """Plain TCP sockets a test opens by hand; closed at teardown."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def tls_client(client_factory: ClientFactory, port: int, context: ssl.SSLContext,
               name: str) -> WireClient:
    """A greeted TLS connection, closed with the others at teardown."""
    client = WireClient.connect(HOST, port, name=name, tls=context)
    client_factory.clients.append(client)
    return client


def exchange(author: WireClient, reader: WireClient, ts: int, text: str) -> None:
    """The whole 1:1 cycle: 05 -> 16, 06 -> 12 -> 07."""
    author.send(ev.Send(author.user, reader.user, ts, text))
    author.expect_next(ev.Accepted(reader.user, ts))
    reader.expect_next(ev.Deliver(author.user, reader.user, ts, text))
    reader.send(ev.Receipt(author.user, reader.user, ts))
    author.expect_next(ev.Delivered(reader.user, ts))


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closes this raw socket within `timeout` (what it sends is ignored)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_tls_register_and_message(server_factory: ServerFactory, client_factory: ClientFactory,
                                  trusting: ssl.SSLContext, tls_args: list[str]) -> None:
    """With a certificate the port speaks TLS: greeting, 01/02, 05/16/06/12/07 unchanged."""
    server = server_factory.start(extra_args=tls_args)
    assert server.listening_line == f"listening on {HOST}:{server.port} tls"
    alice = tls_client(client_factory, server.port, trusting, "alice")
    bob = tls_client(client_factory, server.port, trusting, "bob")
    alice.register()
    bob.register()
    ts = timestamp()
    exchange(alice, bob, ts, "over TLS")
    exchange(bob, alice, ts, "likewise")
    again = tls_client(client_factory, server.port, trusting, "alice again")
    again.login(*alice.credentials())
    alice.expect_error(ErrorCode.REPLACED)
    again.assert_silent()


def test_tls_side_by_side_with_plain(server_factory: ServerFactory, client_factory: ClientFactory,
                                     trusting: ssl.SSLContext, tls_args: list[str]) -> None:
    """With --tls-port, --port stays plain; a plain and a TLS client talk to each other."""
    server = server_factory.start(extra_args=[*tls_args, "--tls-port", "0"])
    assert server.listening_line == f"listening on {HOST}:{server.port}"
    tls_port, secure = server.second_listener()
    assert secure and tls_port != server.port
    plain = client_factory.registered(server, name="plain")
    secret = tls_client(client_factory, tls_port, trusting, "secret")
    secret.register()
    ts = timestamp()
    exchange(plain, secret, ts, "from plain TCP")
    exchange(secret, plain, ts, "from TLS")


def test_tls_wrong_ca_refused(server_factory: ServerFactory, client_factory: ClientFactory,
                              trusting: ssl.SSLContext, tls_args: list[str]) -> None:
    """A client that trusts another CA fails the handshake; the server serves the next one."""
    server = server_factory.start(extra_args=tls_args)
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)
    with pytest.raises(ssl.SSLCertVerificationError):
        WireClient.connect(HOST, server.port, tls=stranger)
    client = tls_client(client_factory, server.port, trusting, "trusting")
    client.register()
    client.assert_silent()


def test_tls_broken_handshakes_do_not_stall_others(server_factory: ServerFactory,
                                                   client_factory: ClientFactory,
                                                   raw_sockets: list[socket.socket],
                                                   trusting: ssl.SSLContext,
                                                   tls_args: list[str]) -> None:
    """Plain TCP on the TLS port, silent, half a record or garbage, holds no one up; the
    garbage is closed at once."""
    server = server_factory.start(extra_args=tls_args)
    silent, partial, garbage = (socket.create_connection(server.address) for _ in range(3))
    raw_sockets += [silent, partial, garbage]
    partial.sendall(b"\x16\x03\x01\x02\x00\x01")  # a handshake record promising 512 bytes
    garbage.sendall(b"01\n03Client-000001\n" * 10)
    alice = tls_client(client_factory, server.port, trusting, "alice")
    bob = tls_client(client_factory, server.port, trusting, "bob")
    alice.register()
    bob.register()
    exchange(alice, bob, timestamp(), "nobody waits for them")
    assert closed_by_server(garbage, DEADLINE_GUARD), "garbage instead of a ClientHello"


@pytest.mark.sqlite_only("waits out the login timer of the loop, where the store plays no part")
def test_tls_stalled_handshake_closed_at_login_timeout(server_factory: ServerFactory,
                                                       raw_sockets: list[socket.socket],
                                                       tls_args: list[str]) -> None:
    """A TCP connection on the TLS port that never finishes a handshake is closed at the
    login timeout, like any connection that never logs in."""
    server = server_factory.start(extra_args=[*tls_args, "--login-timeout", "0.5"])
    silent, partial = (socket.create_connection(server.address) for _ in range(2))
    raw_sockets += [silent, partial]
    partial.sendall(b"\x16\x03\x01\x02\x00\x01")
    assert closed_by_server(silent, DEADLINE_GUARD), "silent: still open"
    assert closed_by_server(partial, DEADLINE_GUARD), "half a record: still open"


def test_tls_frame_split_across_records(server_factory: ServerFactory,
                                        client_factory: ClientFactory,
                                        trusting: ssl.SSLContext, tls_args: list[str]) -> None:
    """A frame sent one byte per TLS record (a UTF-8 character cut too) is one frame."""
    server = server_factory.start(extra_args=tls_args)
    alice = tls_client(client_factory, server.port, trusting, "alice")
    bob = tls_client(client_factory, server.port, trusting, "bob")
    alice.register()
    bob.register()
    ts = timestamp()
    text = "h\u00e9llo \U0001f600"
    frame = encode(ev.Send(alice.user, bob.user, ts, text)) + encode(ev.Ping())
    alice.send_pieces(frame[i:i + 1] for i in range(len(frame)))  # one record a write
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.expect_next(ev.Pong())
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, text))


def test_tls_many_frames_across_records(server_factory: ServerFactory,
                                        client_factory: ClientFactory,
                                        trusting: ssl.SSLContext, tls_args: list[str]) -> None:
    """100 frames in one write (about 25 KB: several 16 KB records, frames cut between
    them) are all handled in order, and the 06s come back the same way."""
    server = server_factory.start(extra_args=tls_args)
    alice = tls_client(client_factory, server.port, trusting, "alice")
    bob = tls_client(client_factory, server.port, trusting, "bob")
    alice.register()
    bob.register()
    base = timestamp()
    texts = [f"{i:03d} " + "y" * 200 for i in range(100)]
    alice.send(*(ev.Send(alice.user, bob.user, base + i, text) for i, text in enumerate(texts)))
    for i in range(100):
        alice.expect_next(ev.Accepted(bob.user, base + i))
    for i, text in enumerate(texts):
        bob.expect_next(ev.Deliver(alice.user, bob.user, base + i, text))
    alice.assert_silent()
    bob.assert_silent()

