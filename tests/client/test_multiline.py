"""Messages of several lines: U+2028 inside the client, LF for people and JSON readers.

From the pieces (lines.py, the notices' words, the pager's rows) to the typed
and pasted message in the full-screen client and /ml in a script, against a
real server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clientkit import ChatServer, ClientProcess, register, run, run_script
from uikit import BOB, ENTER, ESC, chat_app, eventually, lines_text, screen

from interzap_client import commands as cmd
from interzap_client import intents
from interzap_client.history import export
from interzap_client.lines import for_people, split_lines, to_wire, unescape
from interzap_client.notices import Notice, to_json, to_text
from interzap_client.state import State
from interzap_client.ui.pager import wrap

LS = "\u2028"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


@pytest.mark.parametrize("typed", ["a\nb", "a\r\nb", "a\rb", "a\u2029b", "a\u2028b"])
def test_every_line_ending_goes_as_a_line_separator(typed: str) -> None:
    assert to_wire(typed) == f"a{LS}b"


def test_lines_for_people() -> None:
    assert split_lines(f"one{LS}{LS}three\u2029four") == ["one", "", "three", "four"]
    assert for_people(f"one{LS}two") == "one\ntwo"
    assert for_people("one line") == "one line"


def test_ml_escapes() -> None:
    assert unescape(r"a\nb") == f"a{LS}b"
    assert unescape(r"back\\slash, \\n, \t stays") == r"back\slash, \n, \t stays"
    assert cmd.parse(r"/ml bob hi\nthere") == intents.Send("bob", f"hi{LS}there")
    assert "/ml " in cmd.complete("/m", [])


def test_notices_write_lines() -> None:
    """Text output: each further line starts with two blanks; JSON: an escaped LF."""
    notice = Notice("message", peer=BOB, author=BOB, ts=5, text=f"hi{LS}  indented")
    assert to_text(notice) == f"message {BOB} {BOB} 5 hi\n    indented"
    assert json.loads(to_json(notice))["text"] == "hi\n  indented"
    assert "\n" not in to_json(notice)  # still one line of output


def test_pager_breaks_rows_at_a_line_separator() -> None:
    rows = wrap([("", "12:00 "), ("class:text", f"first{LS}second and a longer one")], 16, 6)
    assert lines_text(rows).split("\n") == ["12:00 first", "      second and", "      a longer",
                                            "      one"]


def test_export_writes_lf() -> None:
    state = State("Client-000001")
    state.msg(BOB, "Client-000001", 10, f"one{LS}two")
    assert export(state)["messages"][BOB][0]["content"] == "one\ntwo"


def test_ui_alt_enter_and_paste_make_one_message(chat_server: ChatServer,
                                                 tmp_path: Path) -> None:
    """Esc Enter (what Alt+Enter sends) breaks the line; a pasted text keeps its lines; Enter
    sends each as one message, shown on several rows."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)

    async def scenario() -> None:
        async with chat_app(data, chat_server.port, alice) as (app, keys):
            keys.send_text(f"/open {bob}" + ENTER)
            await eventually(lambda: app.session.open_peer == bob, "the chat open")
            keys.send_text("first" + ESC + ENTER + "second")
            await eventually(lambda: app.input.text == "first\nsecond", "two lines typed")
            assert any(row.startswith("> first") for row in screen(app, 60, 12))
            assert "second" in screen(app, 60, 12)[-1]  # the input grew a row
            keys.send_text(ENTER)
            await eventually(lambda: app.input.text == "", "the message taken")
            keys.send_text(PASTE_START + "one\r\ntwo\nthree" + PASTE_END)
            await eventually(lambda: app.input.text == "one\ntwo\nthree", "the paste")
            keys.send_text(ENTER)
            state = app.session.state
            assert state is not None
            conv = state.conversation(bob)
            await eventually(lambda: len(conv.messages) == 2, "both sent")
            assert [m.text for m in conv.messages] == [f"first{LS}second",
                                                        f"one{LS}two{LS}three"]
            chat = [row.split("│")[-1] for row in screen(app, 60, 12)]
            at = chat.index(next(row for row in chat if row.endswith("you: first")))
            assert chat[at + 1].startswith("      second")  # indented; then its ticks
            assert chat[at + 3] == "      two" and chat[at + 4].startswith("      three")

    run(scenario)


def test_scripted_ml_arrives_as_lines(chat_server: ChatServer, tmp_path: Path,
                                      clients: list[ClientProcess]) -> None:
    """/ml's \\n is a line break; the recipient's JSON event has "\\n" in its text, and its
    export too."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    receiver = ClientProcess(chat_server.port, data, "--account", bob)
    clients.append(receiver)
    receiver.expect("logged_in")
    status, _, err = run_script(chat_server.port, data,
                                f"/ml {bob} dear bob,\\nsee you\\\\n soon\n/wait delivered {bob}\n",
                                "--account", alice)
    assert status == 0, err
    assert receiver.expect("message")["text"] == "dear bob,\nsee you\\n soon"
    target = tmp_path / "export.json"
    receiver.send(f"/export {target}")
    receiver.expect("info")
    assert receiver.finish() == 0
    content = json.loads(target.read_text())["messages"][alice][0]["content"]
    assert content == "dear bob,\nsee you\\n soon"
