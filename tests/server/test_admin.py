"""interzap-admin against a running server: a real server subprocess and the admin command
as its own process (`python -m interzap_server.admin`) on the same --db, on each backend.

Nothing waits by sleeping: a change the server must notice (a disabled account, a
reset token) is waited for as the 13 it sends, within a guard; the server's look
at the operator's changes comes once a second (loop.TICK), so the 13 must come
within about that.
"""

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from wire import ROOT, ClientFactory, ServerFactory, ServerProcess, WireClient, error, timestamp

from interzap_server.loop import TICK
from shared import events as ev
from shared.codes import INVITE_WIDTH, ErrorCode

NOTICED = TICK + 1.0
"""Seconds within which the server acts on a change: its look once a TICK, and slack for
a loaded machine."""


def admin(server: ServerProcess, *args: str, ok: bool = True,
          where: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run interzap-admin on the server's database (`where`: how to name it, by default
    --db); it must succeed unless `ok` is False."""
    done = subprocess.run([sys.executable, "-m", "interzap_server.admin",
                           *(where or ("--db", str(server.db))), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode == 0) == ok, done
    return done


def admin_json(server: ServerProcess, *args: str) -> Any:
    return json.loads(admin(server, "--json", *args).stdout)


def closed_with(client: WireClient, code: int) -> float:
    """Wait for the 13 `code` and the close that follows; the seconds it took."""
    started = time.monotonic()
    client.expect(error(code))
    client.expect_closed()
    return time.monotonic() - started


@pytest.fixture
def invite_server(server_factory: ServerFactory) -> ServerProcess:
    return server_factory.start(extra_args=["--registration", "invite"])


def test_admin_invite_registers_once(invite_server: ServerProcess,
                                     client_factory: ClientFactory) -> None:
    """On an invite-only server a 01 is 13/20; a code from `invite` opens one account
    (20 -> 02), and `invites` shows it used by that account."""
    client = client_factory.connect(invite_server)
    client.send(ev.Register())
    client.expect_next(error(ErrorCode.REGISTRATION_CLOSED))
    made = admin_json(invite_server, "invite", "--count", "2", "--expires", "1h")
    code, spare = made["codes"]
    assert len(code) == INVITE_WIDTH
    client.send(ev.RegisterInvite(code))
    registered = client.expect_next(ev.Registered)
    assert isinstance(registered, ev.Registered)
    again = client_factory.connect(invite_server)
    again.send(ev.RegisterInvite(code))
    again.expect_next(error(ErrorCode.BAD_INVITE))
    rows = {row["code"]: row for row in admin_json(invite_server, "invites")}
    assert rows[code]["user"] == registered.user
    assert rows[spare]["used"] is None
    assert made["expires"] - time.time() <= 3600


def test_admin_closed_server_refuses_every_registration(server_factory: ServerFactory,
                                                        client_factory: ClientFactory) -> None:
    """--registration closed: 01 and 20 are both 13/20."""
    server = server_factory.start(extra_args=["--registration", "closed"])
    client = client_factory.connect(server)
    client.send(ev.Register())
    client.expect_next(error(ErrorCode.REGISTRATION_CLOSED))
    client.send(ev.RegisterInvite("2" * INVITE_WIDTH))
    client.expect_next(error(ErrorCode.REGISTRATION_CLOSED))


def test_admin_disable_closes_the_session_within_a_second(
        server: ServerProcess, client_factory: ClientFactory) -> None:
    """disable: the live session gets 13/22 and is closed within about a second; its 03
    gets 13/22; a 05 to it is 13/05; enable lets it log in again."""
    alice, bob = client_factory.registered(server), client_factory.registered(server)
    bob.send(ev.Send(bob.user, alice.user, timestamp(), "hello"))
    bob.expect(ev.Accepted(alice.user, timestamp()))
    alice.expect(ev.Deliver)
    admin(server, "disable", alice.user)
    assert closed_with(alice, ErrorCode.ACCOUNT_DISABLED) < NOTICED
    again = client_factory.connect(server)
    again.send(ev.Login(*alice.credentials()))
    again.expect_next(error(ErrorCode.ACCOUNT_DISABLED))
    bob.send(ev.Send(bob.user, alice.user, timestamp(1), "still there?"))
    bob.expect(error(ErrorCode.UNKNOWN_PEER))
    admin(server, "enable", alice.user)
    client_factory.logged_in(*alice.credentials(), server)


def test_admin_reset_token_new_works_old_does_not(server: ServerProcess,
                                                  client_factory: ClientFactory) -> None:
    """reset-token prints a new token once: the live session is closed (13/04), the old
    token is refused, the new one logs in."""
    alice = client_factory.registered(server)
    user, old = alice.credentials()
    new = admin_json(server, "reset-token", user)["token"]
    assert closed_with(alice, ErrorCode.BAD_CREDENTIALS) < NOTICED
    refused = client_factory.connect(server)
    refused.send(ev.Login(user, old))
    refused.expect_next(error(ErrorCode.BAD_CREDENTIALS))
    client_factory.logged_in(user, new, server)


def test_admin_delete_refuses_what_is_unsafe(server: ServerProcess,
                                             client_factory: ClientFactory) -> None:
    """delete: refused for an account not disabled, and for a group's member; a disabled
    account in no group is deleted with its queue, and can no longer log in."""
    alice, bob = client_factory.registered(server), client_factory.registered(server)
    carol = client_factory.registered(server)
    alice.send(ev.CreateGroup(alice.user, timestamp(), (carol.user,)))
    alice.expect(ev.GroupCreated)
    bob_id, bob_token = bob.credentials()
    assert "disable it first" in admin(server, "delete", bob_id, ok=False).stderr
    bob.leave()
    alice.send(ev.Send(alice.user, bob_id, timestamp(), "for the queue"))
    alice.expect(ev.Accepted(bob_id, timestamp()))
    for user in (bob_id, carol.user):
        admin(server, "disable", user)
    assert "member of Group-" in admin(server, "delete", carol.user, ok=False).stderr
    assert admin_json(server, "delete", bob_id)["dropped"] == 1
    states = {row["id"]: row["state"] for row in admin_json(server, "users")}
    assert states == {alice.user: "active", bob_id: "deleted", carol.user: "disabled"}
    gone = client_factory.connect(server)
    gone.send(ev.Login(bob_id, bob_token))
    gone.expect_next(error(ErrorCode.BAD_CREDENTIALS))


def test_admin_lists_users_groups_and_stats(server: ServerProcess,
                                            client_factory: ClientFactory) -> None:
    """users, groups and stats, as JSON and as an aligned table."""
    alice, bob = client_factory.registered(server), client_factory.registered(server)
    alice.send(ev.CreateGroup(alice.user, timestamp(), (bob.user,)))
    alice.expect(ev.GroupCreated)
    bob.leave()
    alice.send(ev.Send(alice.user, bob.user, timestamp(), "one"))
    alice.expect(ev.Accepted(bob.user, timestamp()))
    users = admin_json(server, "users")
    assert [row["id"] for row in users] == [alice.user, bob.user]
    assert users[1]["queued"] == 1  # the 06 (the 11 reached him, and his 15 confirmed it)
    [group] = admin_json(server, "groups")
    assert group["members"] == [alice.user, bob.user]
    stats = json.loads(admin(server, "stats", "--json").stdout)  # --json after it too
    assert (stats["users"], stats["groups"]) == (2, 1)
    assert stats["queues"]["largest"][0]["id"] == bob.user
    header, *rows = admin(server, "users").stdout.splitlines()
    assert header.split() == ["id", "name", "state", "created", "last", "login", "queued"]
    assert len(rows) == 2 and rows[0].index("active") == header.index("state")


def test_admin_refuses_an_unknown_user(server: ServerProcess) -> None:
    """A command on an id with no account says so, exit status 1."""
    done = admin(server, "disable", "Client-999999", ok=False)
    assert "there is no user Client-999999" in done.stderr


def test_admin_reads_the_servers_config_file(server: ServerProcess, tmp_path: Path,
                                             client_factory: ClientFactory) -> None:
    """--config FILE: the server's TOML file, other keys and all; its db is used."""
    alice = client_factory.registered(server)
    config = tmp_path / "interzap.toml"
    config.write_text(f'db = "{server.db}"\nmax-per-address = 5\nregistration = "invite"\n',
                      encoding="utf-8")
    done = admin(server, "--json", "users", where=("--config", str(config)))
    assert [row["id"] for row in json.loads(done.stdout)] == [alice.user]
