"""Scripted errors: each names the line it answers, and they come in the order of the lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clientkit import GUARD, ROOT, ChatServer, register, run_script

SCRIPT = (
    "/send Client-999999 anyone there?\n"  # 1: refused by the server (13/05), a round trip later
    "/bogus\n"  # 2: refused at once, by the client
    "/send nobody hi\n"  # 3: an alias nobody defined
    "\n"  # 4: blank lines count too, as an editor counts them
    "/open\n"  # 5: no argument
)


def test_script_errors_name_their_line_in_order(chat_server: ChatServer, tmp_path: Path) -> None:
    """The server's refusal of line 1 comes before the client's own errors of lines 2 to 5."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    status, events, _ = run_script(chat_server.port, data, SCRIPT, "--account", alice)
    assert status == 1
    errors = [(e["line"], e["command"], e["code"]) for e in events if e["event"] == "error"]
    assert errors == [(1, "/send Client-999999 anyone there?", 5), (2, "/bogus", 0),
                      (3, "/send nobody hi", 0), (5, "/open", 0)]


def test_script_errors_text_mode_names_the_line(chat_server: ChatServer,
                                                tmp_path: Path) -> None:
    """In text mode an error reads `error CODE line N "COMMAND": WORDS`."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    done = subprocess.run(
        [sys.executable, "-m", "interzap_client", "--port", str(chat_server.port),
         "--data-dir", str(data), "--account", alice],
        cwd=ROOT, input=SCRIPT, capture_output=True, text=True, timeout=GUARD)
    errors = [line for line in done.stdout.splitlines() if line.startswith("error")]
    assert errors[0] == ('error 05 line 1 "/send Client-999999 anyone there?": no such user '
                         "or group (there is no user Client-999999)")
    assert errors[1].startswith('error 00 line 2 "/bogus": unknown command /bogus')
    assert [e.split()[3] for e in errors] == ["1", "2", "3", "5"]
