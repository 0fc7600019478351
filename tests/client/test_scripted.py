"""Scripted mode end to end: client subprocesses, a real server subprocess, real sockets."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from clientkit import ChatServer, ClientProcess, register, run_script


def messages(events: list[dict], peer: str | None = None) -> list[str]:
    return [e["text"] for e in events
            if e["event"] == "message" and (peer is None or e["peer"] == peer)]


def test_scripted_register_stores_account(chat_server: ChatServer, tmp_path: Path) -> None:
    """/register prints the new id and stores id and token for later runs."""
    status, events, _ = run_script(chat_server.port, tmp_path / "a", "/register\n")
    assert status == 0
    registered = [e for e in events if e["event"] == "registered"]
    assert len(registered) == 1 and registered[0]["id"].startswith("Client-")
    assert (tmp_path / "a" / registered[0]["id"] / "account.json").is_file()
    assert "token" not in registered[0]  # the secret stays in the data dir


def test_scripted_chat_until_read(chat_server: ChatServer, tmp_path: Path,
                                  clients: list[ClientProcess]) -> None:
    """Two clients chat; the sender sees accepted, delivered, then read."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    a = ClientProcess(chat_server.port, data, "--account", alice)
    b = ClientProcess(chat_server.port, data, "--account", bob)
    clients += [a, b]
    a.expect("logged_in")
    b.expect("logged_in")
    a.send(f"/add {bob} bob", "/send bob hello bob", "/send bob second one",
           "/wait delivered bob")
    first = b.expect("message")
    assert (first["peer"], first["author"], first["text"]) == (alice, alice, "hello bob")
    second = b.expect("message")
    assert second["text"] == "second one" and second["ts"] > first["ts"]
    a.expect(lambda e: e["event"] == "delivered" and e["ts"] == second["ts"])
    b.send(f"/read {alice}")
    a.send("/wait read bob")
    assert a.expect("read") == {"event": "read", "peer": bob, "ts": second["ts"]}
    assert a.finish() == 0 and b.finish() == 0
    kinds = [e["event"] for e in a.events]
    assert kinds.count("accepted") == 2 and kinds.count("delivered") == 2
    assert kinds.index("read") > max(i for i, k in enumerate(kinds) if k == "delivered")


def test_scripted_chat_two_pipes(chat_server: ChatServer, tmp_path: Path,
                                 clients: list[ClientProcess]) -> None:
    """Both sides scripted through pipes: a reply arrives and both exit 0."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    a = ClientProcess(chat_server.port, data, "--account", alice)
    b = ClientProcess(chat_server.port, data, "--account", bob)
    clients += [a, b]
    a.expect("logged_in")
    b.expect("logged_in")
    a.send(f"/open {bob}", "ping?")
    assert b.expect("message")["text"] == "ping?"
    b.send(f"/open {alice}", "pong!")
    reply = a.expect("message")
    assert (reply["peer"], reply["text"]) == (bob, "pong!")
    a.send(f"/wait read {bob}")  # b opened the conversation: it confirmed as read
    assert a.expect("read")["peer"] == bob
    assert a.finish() == 0 and b.finish() == 0


def test_scripted_group_message_reaches_everyone(chat_server: ChatServer, tmp_path: Path,
                                                 clients: list[ClientProcess]) -> None:
    """A group of three: one message reaches both others, with its author and group."""
    data = tmp_path / "data"
    alice, bob, carol = (register(chat_server.port, data) for _ in range(3))
    b = ClientProcess(chat_server.port, data, "--account", bob)
    c = ClientProcess(chat_server.port, data, "--account", carol)
    clients += [b, c]
    b.expect("logged_in")
    c.expect("logged_in")
    status, events, err = run_script(
        chat_server.port, data,
        f"/group {bob} {carol}\nhello group\n/wait delivered\n", "--account", alice)
    assert status == 0, (events, err)
    group = next(e for e in events if e["event"] == "group")
    assert group["members"] == [alice, bob, carol]
    for other in (b, c):
        assert other.expect("group")["group"] == group["group"]
        got = other.expect("message")
        assert (got["peer"], got["group"], got["author"], got["text"]) == (
            group["group"], group["group"], alice, "hello group")
        assert other.finish() == 0


def test_scripted_offline_recipient_gets_messages_at_login(chat_server: ChatServer,
                                                           tmp_path: Path) -> None:
    """Messages sent while the recipient is offline arrive, in order, at its login."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    script = "".join(f"/send {bob} message {i}\n" for i in range(5))
    status, events, _ = run_script(chat_server.port, data, script + f"/wait accepted {bob}\n",
                                   "--account", alice)
    assert status == 0
    status, events, _ = run_script(chat_server.port, data, "/wait received 5\n",
                                   "--account", bob)
    assert status == 0
    assert messages(events) == [f"message {i}" for i in range(5)]
    # a second login finds nothing new: all of it was stored and acknowledged (12)
    status, events, _ = run_script(chat_server.port, data, "", "--account", bob)
    assert status == 0 and messages(events) == []


def test_scripted_server_restart_drains_outbox(chat_server: ChatServer, tmp_path: Path,
                                               clients: list[ClientProcess]) -> None:
    """Server killed mid-run: the client reconnects, its outbox drains, none lost or doubled."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    a = ClientProcess(chat_server.port, data, "--account", alice, "--timeout", "20")
    clients.append(a)
    a.expect("logged_in")
    a.send(f"/send {bob} before", f"/wait accepted {bob}")
    a.expect("accepted")
    # a burst in flight when the server is killed: some may be answered, some not
    a.send(*(f"/send {bob} burst {i}" for i in range(10)))
    chat_server.stop(signal.SIGKILL)
    a.expect("disconnected")
    a.send(*(f"/send {bob} offline {i}" for i in range(5)))
    chat_server.start()  # same port, same database
    a.expect("reconnected")
    a.send(f"/wait accepted {bob}")
    assert a.finish() == 0, a.events
    status, events, _ = run_script(chat_server.port, data, "/wait received 16\n",
                                   "--account", bob)
    assert status == 0
    expected = ["before", *(f"burst {i}" for i in range(10)),
                *(f"offline {i}" for i in range(5))]
    assert messages(events) == expected


def test_scripted_export_matches_original_format(chat_server: ChatServer,
                                                 tmp_path: Path) -> None:
    """/export and `interzap-client export` write the original's backup format."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    status, _, _ = run_script(chat_server.port, data, f"/send {bob} hi bob\n",
                              "--account", alice)
    assert status == 0
    out = tmp_path / "bob.json"
    status, events, _ = run_script(chat_server.port, data,
                                   f"/wait received 1\n/read {alice}\n/export {out}\n",
                                   "--account", bob)
    assert status == 0, events
    exported = json.loads(out.read_text())
    assert set(exported) == {"contacts", "messages"}
    assert exported["contacts"] == [alice]
    [message] = exported["messages"][alice]
    assert set(message) == {"sender", "time", "content", "delivered", "read"}
    assert (message["sender"], message["content"], message["delivered"], message["read"]) == (
        alice, "hi bob", True, True)
    assert isinstance(message["time"], int)
    # the subcommand writes the same thing, offline
    again = tmp_path / "again.json"
    status, _, _ = run_script(0, data, "", "--account", bob, "export", str(again))
    assert status == 0
    assert json.loads(again.read_text()) == exported


def test_scripted_errors_make_exit_status_nonzero(chat_server: ChatServer,
                                                  tmp_path: Path) -> None:
    """An unknown recipient is an error in words, and the exit status says so."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    status, events, _ = run_script(
        chat_server.port, data, "/send Client-999999 anyone there?\n/bogus\n",
        "--account", alice)
    assert status != 0
    errors = [e for e in events if e["event"] == "error"]
    assert any(e["code"] == 5 and "no such user" in e["text"] for e in errors)
    assert any(e["code"] == 0 and "unknown command" in e["text"] for e in errors)


def test_scripted_wait_times_out(chat_server: ChatServer, tmp_path: Path) -> None:
    """/wait gives up after --timeout with an error instead of hanging."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    status, events, _ = run_script(chat_server.port, data, "/wait received 1\n",
                                   "--account", alice, "--timeout", "0.5")
    assert status != 0
    assert any(e["event"] == "error" and "received" in e["text"] for e in events)


def test_scripted_outbox_survives_the_client(chat_server: ChatServer, tmp_path: Path) -> None:
    """Typed while the server is down, the messages wait on disk and leave with the next run."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    chat_server.stop()
    status, events, _ = run_script(chat_server.port, data, f"/send {bob} written offline\n",
                                   "--account", alice, "--timeout", "0.5")
    assert status != 0  # the outbox could not drain: said so, and kept it
    assert any(e["event"] == "error" and "outbox" in e["text"] for e in events)
    chat_server.start()
    status, events, _ = run_script(chat_server.port, data, "", "--account", alice)
    assert status == 0 and [e["event"] for e in events] == ["logged_in", "accepted"]
    status, events, _ = run_script(chat_server.port, data, "/wait received 1\n",
                                   "--account", bob)
    assert messages(events) == ["written offline"]


def test_scripted_truncated_history_is_reported(chat_server: ChatServer,
                                                tmp_path: Path) -> None:
    """A journal cut short by a kill is a warning at start-up, not a crash; the rest stays."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    status, _, _ = run_script(chat_server.port, data, f"/send {bob} kept\n",
                              "--account", alice)
    assert status == 0
    with open(data / alice / "history.jsonl", "a") as journal:
        journal.write('{"t":"msg","src":"')
    out = tmp_path / "export.json"
    status, events, _ = run_script(chat_server.port, data, f"/export {out}\n",
                                   "--account", alice)
    assert status == 0
    assert [e["event"] for e in events][:1] == ["warning"]
    assert [m["content"] for m in json.loads(out.read_text())["messages"][bob]] == ["kept"]


def test_scripted_big_outbox_stays_under_flood_limit(chat_server: ChatServer,
                                                     tmp_path: Path) -> None:
    """300 messages at once leave paced: none refused with 13/10, all arrive once, in order."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    script = "".join(f"/send {bob} n{i}\n" for i in range(300)) + f"/wait accepted {bob}\n"
    status, events, _ = run_script(chat_server.port, data, script, "--account", alice,
                                   timeout=60)
    assert status == 0, [e for e in events if e["event"] == "error"][:3]
    status, events, _ = run_script(chat_server.port, data, "/wait received 300\n",
                                   "--account", bob, timeout=60)
    assert status == 0
    assert messages(events) == [f"n{i}" for i in range(300)]


def test_scripted_wrong_token_is_an_error_in_words(chat_server: ChatServer,
                                                   tmp_path: Path) -> None:
    """A wrong token is refused in words, is not retried forever, and fails the run."""
    data = tmp_path / "data"
    alice = register(chat_server.port, data)
    status, events, _ = run_script(chat_server.port, tmp_path / "elsewhere",
                                   f"/login {alice} {'0' * 32}\n/send {alice} hi\n")
    assert status != 0
    [refused, *_] = [e for e in events if e["event"] == "error"]
    assert refused["code"] == 4 and "wrong token" in refused["text"]
    assert not (tmp_path / "elsewhere" / alice / "account.json").exists()


def test_scripted_block_lists_and_stops_messages(chat_server: ChatServer,
                                                 tmp_path: Path) -> None:
    """/block answers with a `blocked` event of the whole list, /blocked repeats it,
    /contacts marks the contact, the blocked user's message is accepted but never
    arrives, and /unblock empties the list."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    status, events, _ = run_script(chat_server.port, data,
                                   f"/add {bob} bob\n/block bob\n/blocked\n/contacts\n",
                                   "--account", alice)
    assert status == 0
    assert [e for e in events if e["event"] == "blocked"] == [
        {"event": "blocked", "users": [bob]}, {"event": "blocked", "users": [bob]}]
    assert {"event": "contact", "id": bob, "alias": "bob", "blocked": True} in events
    status, events, _ = run_script(chat_server.port, data,
                                   f"/send {alice} let me in\n/wait accepted {alice}\n",
                                   "--account", bob)
    assert status == 0 and any(e["event"] == "accepted" for e in events)
    status, events, _ = run_script(chat_server.port, data,
                                   f"/wait received 1\n/unblock {bob}\n",
                                   "--account", alice, "--timeout", "0.5")
    assert status != 0  # the /wait: nothing arrived
    assert not messages(events)
    assert {"event": "blocked", "users": []} in events
