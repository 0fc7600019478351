"""Secrets (issue 5): tokens never reach the server's log or its database, and the client
will not quietly use a token file that others can read.

The server runs at --log-level debug, where peewee logs every SQL statement with
its parameters: the token's hash may appear there, the token itself must not.
"""

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from backends import Backend
from wire import ROOT, ClientFactory, ServerProcess, WireClient, error, timestamp

from interzap_server.service import hash_token
from interzap_server.storage import open_store
from shared import events as ev
from shared.codes import ErrorCode


def session_with_secrets(server: ServerProcess, client_factory: ClientFactory) -> list[str]:
    """Register, log in again, try a wrong token, chat; the tokens that were on the wire."""
    alice = client_factory.registered(server, name="alice")
    bob = client_factory.registered(server, name="bob")
    bob.leave()
    again = client_factory.logged_in(*bob.credentials(), server, name="bob again")
    guess = "0123456789abcdef" * 2  # a wrong token is somebody's mistyped secret
    intruder = client_factory.connect(server, name="intruder")
    intruder.send(ev.Login(alice.user, guess))
    intruder.expect_next(error(ErrorCode.BAD_CREDENTIALS))
    ts = timestamp()
    alice.send(ev.Send(alice.user, again.user, ts, "secret-free text"))
    alice.expect_next(ev.Accepted(again.user, ts))
    again.expect_next(ev.Deliver(alice.user, again.user, ts, "secret-free text"))
    assert alice.token is not None and bob.token is not None
    return [alice.token, bob.token, guess]


def test_secrets_tokens_absent_from_debug_log(server: ServerProcess,
                                              client_factory: ClientFactory) -> None:
    """At --log-level debug (SQL and its parameters logged) no token, right or wrong,
    appears in the server's log or on its stdout."""
    tokens = session_with_secrets(server, client_factory)
    assert server.terminate() == 0
    log = server.log_path.read_text(encoding="utf-8", errors="replace")
    assert " DEBUG " in log, "the server did not log at debug level"
    out = server.read_rest_of_stdout().decode("utf-8", "replace")
    for token in tokens:
        assert token not in log, f"a token is in the log: {token}"
        assert token not in out, f"a token is on stdout: {token}"


def test_secrets_database_holds_only_token_hashes(server: ServerProcess, backend: Backend,
                                                  client_factory: ClientFactory) -> None:
    """No byte of the database's files (SQLite's WAL included; PostgreSQL's table files
    and write-ahead log) holds a token; the store keeps each token's SHA-256."""
    tokens = session_with_secrets(server, client_factory)
    users = [client.user for client in client_factory.clients[:2]]
    assert server.terminate() == 0
    # what is stored is not on the wire: only the database itself can show it
    db = str(server.db)
    hashes_seen = False  # the files read are the right ones: they hold the hashes
    for path in backend.files(db):
        raw = path.read_bytes()
        hashes_seen |= hash_token(tokens[0]).encode() in raw
        for token in tokens:
            assert token.encode() not in raw, f"{path} holds a token"
    assert hashes_seen, f"no file of {db} holds the hash of a token"
    store = open_store(db)  # the server is gone: its store's own API reads what it kept
    try:
        for user, token in zip(users, tokens, strict=False):
            credentials = store.accounts.credentials(user)
            assert credentials is not None and credentials.token_hash == hash_token(token)
    finally:
        store.close()


# -- the client's profile -------------------------------------------------------------------


def run_client(server: ServerProcess, data: Path, *args: str,
               script: str = "") -> subprocess.CompletedProcess[str]:
    """The scripted client (--json), run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "interzap_client", "--port", str(server.port), "--data-dir",
         str(data), "--json", "--timeout", "10", *args],
        cwd=ROOT, input=script, capture_output=True, text=True, timeout=60)


CLIENT_ONLY = pytest.mark.sqlite_only("the client's own files: the server's store plays no part")


@CLIENT_ONLY
@pytest.mark.parametrize("mode", [pytest.param(0o644, id="0644"), pytest.param(0o666, id="0666")])
def test_secrets_client_refuses_or_fixes_readable_profile(server: ServerProcess,
                                                          tmp_path: Path, mode: int) -> None:
    """A token file others can read is refused, or made 0600, and the client says so."""
    data = tmp_path / "data"
    registered = run_client(server, data, script="/register\n")
    assert registered.returncode == 0, registered
    ident = next(json.loads(line)["id"] for line in registered.stdout.splitlines()
                 if json.loads(line)["event"] == "registered")
    profile = data / ident / "account.json"
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    profile.chmod(mode)
    done = run_client(server, data, "--account", ident)
    said = done.stdout + done.stderr
    fixed = stat.S_IMODE(profile.stat().st_mode) == 0o600
    refused = done.returncode != 0 and '"logged_in"' not in done.stdout
    assert fixed or refused, (f"mode {stat.S_IMODE(profile.stat().st_mode):o}, exit "
                              f"{done.returncode}, output {said!r}")
    assert "account.json" in said or str(profile) in said, f"nothing said: {said!r}"


@CLIENT_ONLY
def test_secrets_client_output_never_shows_token(server: ServerProcess, tmp_path: Path,
                                                 client_factory: ClientFactory) -> None:
    """Registering and logging in with the scripted client never prints the token."""
    data = tmp_path / "data"
    registered = run_client(server, data, script="/register\n")
    ident = next(json.loads(line)["id"] for line in registered.stdout.splitlines()
                 if json.loads(line)["event"] == "registered")
    token = json.loads((data / ident / "account.json").read_text())["token"]
    again = run_client(server, data, "--account", ident)
    assert '"logged_in"' in again.stdout
    for done in (registered, again):
        assert token not in done.stdout + done.stderr
    probe = WireClient.connect(*server.address)  # the stored token is the real one
    probe.login(ident, token)
    probe.close()
