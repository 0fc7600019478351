"""End to end: registering, logging in, bad credentials, a second login (13/04, 13/11, 13/12)."""

from wire import ClientFactory, ServerProcess, timestamp

from shared import events as ev
from shared.codes import ErrorCode

UNKNOWN_USER = "Client-999999"
WRONG_TOKEN = "0" * 32


def test_register_hands_out_ids_in_order(server: ServerProcess,
                                         client_factory: ClientFactory) -> None:
    """On a fresh database 01 is answered with 02 for Client-000001, then Client-000002."""
    first = client_factory.connect()
    second = client_factory.connect()
    assert first.register()[0] == "Client-000001"
    assert second.register()[0] == "Client-000002"


def test_register_tokens_are_distinct(client_factory: ClientFactory) -> None:
    """Every account gets its own secret token (32 lowercase hex, checked by the codec)."""
    tokens = {client_factory.registered().credentials()[1] for _ in range(3)}
    assert len(tokens) == 3


def test_register_logs_the_connection_in(client_factory: ClientFactory) -> None:
    """After 02 the connection is logged in as the new id: its 05 is accepted."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "hello"))
    alice.expect_next(ev.Accepted(bob.user, ts))


def test_login_with_token_succeeds(client_factory: ClientFactory) -> None:
    """03 with the id and token from 02 is answered with 04."""
    user, token = client_factory.registered().credentials()
    client = client_factory.connect()
    client.login(user, token)
    client.assert_silent()


def test_login_bad_token_refused(client_factory: ClientFactory) -> None:
    """A wrong token gets 13/04 and the connection stays open, usable, not logged in."""
    user, token = client_factory.registered().credentials()
    client = client_factory.connect()
    client.send(ev.Login(user, WRONG_TOKEN))
    client.expect_error(ErrorCode.BAD_CREDENTIALS)
    client.send(ev.Read(user, timestamp()))
    client.expect_error(ErrorCode.NOT_LOGGED_IN)
    client.login(user, token)


def test_login_other_users_token_refused(client_factory: ClientFactory) -> None:
    """A token is valid for its own id only: another account's token gets 13/04."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    client = client_factory.connect()
    client.send(ev.Login(alice.credentials()[0], bob.credentials()[1]))
    client.expect_error(ErrorCode.BAD_CREDENTIALS)


def test_login_unknown_id_same_error(client_factory: ClientFactory) -> None:
    """An unknown id gets the very same 13/04 as a wrong token, and the connection stays open."""
    user, _ = client_factory.registered().credentials()
    client = client_factory.connect()
    client.send(ev.Login(user, WRONG_TOKEN))
    wrong_token = client.expect_error(ErrorCode.BAD_CREDENTIALS)
    client.send(ev.Login(UNKNOWN_USER, WRONG_TOKEN))
    unknown_id = client.expect_error(ErrorCode.BAD_CREDENTIALS)
    assert unknown_id == wrong_token
    client.register()


def test_register_when_logged_in_refused(server: ServerProcess,
                                         client_factory: ClientFactory) -> None:
    """01 on a logged-in connection gets 13/11 and creates no account."""
    alice = client_factory.registered()
    alice.send(ev.Register())
    alice.expect_error(ErrorCode.ALREADY_LOGGED_IN)
    assert alice.user == "Client-000001"
    assert client_factory.registered().user == "Client-000002"


def test_login_when_logged_in_refused(client_factory: ClientFactory) -> None:
    """03 on a logged-in connection gets 13/11; neither connection changes identity."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    alice.send(ev.Login(*bob.credentials()))
    alice.expect_error(ErrorCode.ALREADY_LOGGED_IN)
    bob.assert_silent()  # bob's connection was not replaced
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "still alice"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "still alice"))


def test_second_login_replaces_first(client_factory: ClientFactory) -> None:
    """A second login with the same id: 13/12 to the old connection, which is closed."""
    old = client_factory.registered()
    new = client_factory.logged_in(*old.credentials())
    old.expect_error(ErrorCode.REPLACED)
    old.expect_closed()
    new.assert_silent()


def test_second_login_gets_unacknowledged(client_factory: ClientFactory) -> None:
    """The new connection gets the whole queue, including 06s the old one did not acknowledge."""
    alice = client_factory.registered()
    old = client_factory.registered()
    ts = timestamp()
    message = ev.Send(alice.user, old.user, ts, "are you there?")
    alice.send(message)
    old.expect_next(ev.Deliver(alice.user, old.user, ts, "are you there?"))
    new = client_factory.logged_in(*old.credentials())
    new.expect_next(ev.Deliver(alice.user, old.user, ts, "are you there?"))
    old.expect_error(ErrorCode.REPLACED)


def test_second_login_routes_live_messages_to_new(client_factory: ClientFactory) -> None:
    """After a second login, new messages for that id go to the new connection."""
    alice = client_factory.registered()
    old = client_factory.registered()
    new = client_factory.logged_in(*old.credentials())
    old.expect_error(ErrorCode.REPLACED)
    ts = timestamp()
    alice.send(ev.Send(alice.user, new.user, ts, "which one?"))
    alice.expect_next(ev.Accepted(new.user, ts))
    new.expect_next(ev.Deliver(alice.user, new.user, ts, "which one?"))
