"""Registration modes and invites (01, 20, 13/20, 13/21), and the operator's changes to
accounts as a server process sees them (13/22, 13/05, 13/04), in process (rules_kit.py).

The invites and changes are made with the admin's own queries (storage/admin.py), on
the same file as the Node: two processes on one database. Times are explicit: the
Node's loop time is the `now` every rule sees.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from interzap_server.rules.accounts import hash_token
from interzap_server.storage import Admin, open_admin
from server.rules_kit import T0, TS, NodeFactory
from shared import events as ev
from shared.codes import ErrorCode

LATER = T0 + 3600


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Admin]:
    """The operator's queries on the Nodes' database file."""
    admin = open_admin(str(tmp_path / "interzap.db"))
    yield admin
    admin.close()


def refusal(frames: list[ev.Event]) -> int:
    """The code of the one 13 in `frames`."""
    [error] = frames
    assert isinstance(error, ev.Error), frames
    return error.code


def invite(admin: Admin, expires: float = LATER) -> str:
    [code] = admin.make_invites(1, int(expires), int(T0))
    return code


@pytest.mark.parametrize(("mode", "refused"), [
    pytest.param("open", None, id="open"),
    pytest.param("invite", ErrorCode.REGISTRATION_CLOSED, id="invite"),
    pytest.param("closed", ErrorCode.REGISTRATION_CLOSED, id="closed"),
])
def test_registration_01_by_mode(node: NodeFactory, mode: str, refused: int | None) -> None:
    """A 01 registers on an open server only; elsewhere 13/20 says what to do."""
    server = node(registration=mode)
    line = server.connect()
    answer = server.ask(line, ev.Register())
    if refused is None:
        assert isinstance(answer[0], ev.Registered)
        return
    assert refusal(answer) == refused
    assert not server.service.is_logged_in(line)
    [error] = answer
    assert isinstance(error, ev.Error)
    assert ("/register CODE" in error.reason) == (mode == "invite")


@pytest.mark.parametrize("mode", ["open", "invite"])
def test_registration_invite_opens_one_account_once(node: NodeFactory, admin: Admin,
                                                    mode: str) -> None:
    """A 20 with a fresh code registers (02) and logs in; the same code again is 13/21."""
    server = node(registration=mode)
    code = invite(admin)
    first = server.connect()
    [registered] = server.ask(first, ev.RegisterInvite(code))
    assert isinstance(registered, ev.Registered)
    assert server.service.is_logged_in(first)
    [row] = admin.invites()
    assert (row.used, row.user) == (int(T0), registered.user)
    again = server.connect()
    [error] = server.ask(again, ev.RegisterInvite(code))
    assert isinstance(error, ev.Error) and error.code == ErrorCode.BAD_INVITE
    assert "used" in error.reason


@pytest.mark.parametrize(("code", "now", "word"), [
    pytest.param("2" * 16, T0, "no such", id="unknown"),
    pytest.param(None, LATER + 1, "expired", id="expired"),
])
def test_registration_bad_invite_writes_nothing(node: NodeFactory, admin: Admin,
                                                code: str | None, now: float,
                                                word: str) -> None:
    """A code unknown or past its expiry is 13/21 saying which, and no account is made."""
    server = node(registration="invite")
    code = code or invite(admin)
    line = server.connect()
    [error] = server.ask(line, ev.RegisterInvite(code), now)
    assert isinstance(error, ev.Error) and error.code == ErrorCode.BAD_INVITE
    assert word in error.reason
    assert admin.users() == []


def test_registration_closed_refuses_even_an_invite(node: NodeFactory, admin: Admin) -> None:
    """On a closed server a valid 20 is 13/20 too, and the code stays unused."""
    server = node(registration="closed")
    code = invite(admin)
    assert refusal(server.ask(server.connect(), ev.RegisterInvite(code))) == (
        ErrorCode.REGISTRATION_CLOSED)
    assert admin.invites()[0].used is None


def test_registration_invite_and_account_are_one_transaction(node: NodeFactory,
                                                             admin: Admin) -> None:
    """Two 20s with one code in one batch: one account, one 13/21."""
    server = node(registration="invite")
    code = invite(admin)
    one, two = server.connect(), server.connect()
    with server.service.batch(T0):
        server.service.handle(one, ev.RegisterInvite(code))
        server.service.handle(two, ev.RegisterInvite(code))
    server.service.settle()
    assert isinstance(one.take()[0], ev.Registered)
    assert refusal(two.take()) == ErrorCode.BAD_INVITE
    assert len(admin.users()) == 1


# -- the operator's changes, seen by a running server ------------------------------------


def test_disabled_account_closed_refused_and_unreachable(node: NodeFactory,
                                                         admin: Admin) -> None:
    """Disabling: the live session gets 13/22, a 03 gets 13/22, a 05 to it 13/05."""
    server = node()
    server.tick()  # the server's first look: it starts after the changes so far
    alice, alice_id, alice_token = server.register()
    bob, bob_id, _ = server.register()
    assert server.ask(bob, ev.Send(bob_id, alice_id, TS, "hi"))  # known to the caches now
    assert admin.disable(alice_id, int(T0))
    alice.take()
    server.tick()
    assert refusal(alice.take()) == ErrorCode.ACCOUNT_DISABLED
    assert not server.service.is_logged_in(alice)
    _, answer = server.log_in(alice_id, alice_token)
    assert refusal(answer) == ErrorCode.ACCOUNT_DISABLED
    assert refusal(server.ask(bob, ev.Send(bob_id, alice_id, TS + 1, "hi"))) == (
        ErrorCode.UNKNOWN_PEER)
    assert admin.enable(alice_id, int(T0))
    _, answer = server.log_in(alice_id, alice_token)
    assert answer[0] == ev.LoggedIn(alice_id)


def test_disabled_login_needs_the_right_token(node: NodeFactory, admin: Admin) -> None:
    """A wrong token for a disabled account is 13/04, as for any other: 13/22 is said
    only to whoever holds the token."""
    server = node()
    _, alice_id, _ = server.register()
    admin.disable(alice_id, int(T0))
    _, answer = server.log_in(alice_id, "f" * 32)
    assert refusal(answer) == ErrorCode.BAD_CREDENTIALS


def test_reset_token_closes_the_session_and_the_old_token(node: NodeFactory,
                                                          admin: Admin) -> None:
    """A reset token: the live session gets 13/04 and closes; the old token is refused,
    the new one logs in."""
    server = node()
    server.tick()
    alice, alice_id, old = server.register()
    alice.take()
    new = "a" * 32
    admin.reset_token(alice_id, hash_token(new), int(T0))
    server.tick()
    assert refusal(alice.take()) == ErrorCode.BAD_CREDENTIALS
    assert refusal(server.log_in(alice_id, old)[1]) == ErrorCode.BAD_CREDENTIALS
    assert server.log_in(alice_id, new)[1][0] == ev.LoggedIn(alice_id)


def test_changes_before_the_server_started_are_not_acted_on(node: NodeFactory,
                                                            admin: Admin) -> None:
    """A reset made before the server's first look does not close a session opened with
    the new token."""
    server = node()
    _, alice_id, _ = server.register()
    new = "b" * 32
    admin.reset_token(alice_id, hash_token(new), int(T0))
    server.tick()
    line, answer = server.log_in(alice_id, new)
    server.tick()
    assert answer[0] == ev.LoggedIn(alice_id)
    assert line.take() == []
    assert server.service.is_logged_in(line)


def test_reset_spares_a_session_opened_with_the_new_token(node: NodeFactory,
                                                         admin: Admin) -> None:
    """A login with the new token after the reset, before the server's next look, is not
    closed by that look: only sessions as old as the reset are."""
    server = node()
    server.tick()
    _, alice_id, _ = server.register()
    new = "d" * 32
    admin.reset_token(alice_id, hash_token(new), int(T0))
    later = server.connect()
    assert server.ask(later, ev.Login(alice_id, new), T0 + 2)[0] == ev.LoggedIn(alice_id)
    server.tick(T0 + 3)
    assert later.take() == []
    assert server.service.is_logged_in(later)


def test_failed_logins_are_reported_by_the_service(node: NodeFactory) -> None:
    """The service tells its listener of each 03 refused 13/04, and of nothing else."""
    server = node()
    told: list[object] = []
    server.service.report_failed_logins(told.append)
    _, alice_id, token = server.register()
    line, _ = server.log_in(alice_id, "c" * 32)
    server.log_in(alice_id, token)
    assert told == [line]
