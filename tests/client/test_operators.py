"""The client against what a server's operator does: an invite-only server (/register CODE,
13/20, 13/21), a disabled account (13/22), a reset token (13/04), and the words for every
error code. Real server and client subprocesses; the operator is interzap-admin, run as a
process of its own on the server's database.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from clientkit import ROOT, ChatServer, ClientProcess, register, run_script

from interzap_client.commands import CommandError, parse
from interzap_client.intents import Register
from interzap_client.notices import ERROR_WORDS
from shared.codes import ErrorCode


def admin(server: ChatServer, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "interzap_server.admin", "--db",
                           str(server.db), "--json", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def errors(events: list[dict]) -> list[dict]:
    return [event for event in events if event["event"] == "error"]


def test_error_words_cover_every_code() -> None:
    """A person reads words for every 13 the server may send, never just a number."""
    assert set(ERROR_WORDS) == set(ErrorCode)


@pytest.mark.parametrize(("typed", "code"), [
    pytest.param("/register", None, id="none"),
    pytest.param("/register 7KQ2MXW9RTB4HJZP", "7KQ2MXW9RTB4HJZP", id="as-given"),
    pytest.param("/register 7kq2-mxw9-rtb4-hjzp", "7KQ2MXW9RTB4HJZP", id="lower-dashed"),
])
def test_register_command_reads_an_invite(typed: str, code: str | None) -> None:
    """/register CODE takes the code in any case, with dashes between groups."""
    assert parse(typed) == Register(code)


@pytest.mark.parametrize("typed", ["/register 7KQ2", "/register 0OIL7KQ2MXW9RTB4"])
def test_register_command_refuses_what_is_no_invite(typed: str) -> None:
    """A code of the wrong length or with an ambiguous character is refused before sending."""
    with pytest.raises(CommandError, match="invite code"):
        parse(typed)


def test_scripted_register_on_an_invite_only_server(invite_server: ChatServer,
                                                    tmp_path: Path) -> None:
    """/register alone is refused in words that say to ask for a code; /register CODE
    registers; the same code again is refused as used."""
    status, events, _ = run_script(invite_server.port, tmp_path / "a", "/register\n")
    [refused] = errors(events)
    assert status != 0 and refused["code"] == ErrorCode.REGISTRATION_CLOSED
    assert "/register CODE" in refused["text"]
    [code] = admin(invite_server, "invite")["codes"]
    typed = "-".join(code[i:i + 4] for i in range(0, len(code), 4)).lower()
    status, events, _ = run_script(invite_server.port, tmp_path / "a", f"/register {typed}\n")
    assert status == 0 and any(event["event"] == "registered" for event in events)
    status, events, _ = run_script(invite_server.port, tmp_path / "b", f"/register {code}\n")
    [used] = errors(events)
    assert used["code"] == ErrorCode.BAD_INVITE and "used" in used["text"]


@pytest.mark.parametrize(("command", "code"), [
    pytest.param("disable", ErrorCode.ACCOUNT_DISABLED, id="disabled"),
    pytest.param("reset-token", ErrorCode.BAD_CREDENTIALS, id="reset-token"),
])
def test_scripted_client_signed_out_by_the_operator(chat_server: ChatServer, tmp_path: Path,
                                                    clients: list[ClientProcess],
                                                    command: str, code: int) -> None:
    """A logged-in client whose account the operator disables (or gives a new token) is
    told why as `signed_out`, and does not log in again by itself."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    client = ClientProcess(chat_server.port, data, "--account", alice)
    clients.append(client)
    client.expect("logged_in")
    admin(chat_server, command, alice)
    signed_out = client.expect("signed_out")
    assert signed_out["code"] == code and "operator" in signed_out["text"]
    client.send(f"/send {alice} anyone?")
    client.finish()
    logins = [e for e in client.events if e["event"] in ("logged_in", "reconnected")]
    assert len(logins) == 1  # the first; none after the operator's 13
