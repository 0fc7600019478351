"""Scripted mode end to end, names and group admin: client subprocesses and a real server;
every command drives its frame, every incoming 22 and 24 is a --json event."""

from __future__ import annotations

import signal
from pathlib import Path

from clientkit import ChatServer, ClientProcess, logged_in, register, run_script


def test_scripted_names_reach_contacts(chat_server: ChatServer, tmp_path: Path,
                                       clients: list[ClientProcess]) -> None:
    """/name reaches a contact as a `name` event; /whois finds them by name and by id; the
    first message of a new pair brings the sender's name along."""
    (alice, bob), (a, b) = logged_in(chat_server.port, tmp_path / "data", clients, 2)
    a.send("/name Alice Liddell")
    assert a.expect("name") == {"event": "name", "id": alice, "name": "Alice Liddell"}
    a.send(f"/send {bob} hi")
    assert b.expect("name") == {"event": "name", "id": alice, "name": "Alice Liddell"}
    assert b.expect("message")["text"] == "hi"
    b.send("/whois Alice Liddell", f"/whois {alice}")
    assert b.expect("whois") == {"event": "whois", "id": alice, "name": "Alice Liddell"}
    assert b.expect("whois")["id"] == alice
    b.send("/name Bob")
    assert a.expect("name") == {"event": "name", "id": bob, "name": "Bob"}
    a.send("/send Bob hello")  # a name resolves like an alias
    assert b.expect("message")["text"] == "hello"
    assert a.finish() == 0 and b.finish() == 0


def test_scripted_group_admin(chat_server: ChatServer, tmp_path: Path,
                              clients: list[ClientProcess]) -> None:
    """/group NAME: ..., /invite, /promote, /members, /remove and /leave, each a
    group_change event with its words; a removed member can no longer send."""
    data = tmp_path / "data"
    (alice, bob, carol), (a, b, c) = logged_in(chat_server.port, data, clients, 3)
    dave = register(chat_server.port, data)
    a.send(f"/group book club: {bob} {carol}")
    group = a.expect("group")["group"]
    renamed = a.expect("group_change")
    assert (renamed["op"], renamed["name"], renamed["text"]) == (
        "N", "book club", "you renamed the group to book club")
    assert b.expect("group_change")["name"] == "book club"
    a.send(f"/invite {dave}", f"/promote {bob}")
    assert a.expect("group_change")["text"] == f"you added {dave}"
    assert b.expect("group_change")["text"] == f"{alice} added {dave}"
    assert b.expect("group_change")["text"] == "you are now an admin"
    c.send(f"/open {group}", "/rename mine")  # not an admin: refused, the name unchanged
    refusal = c.expect("error")
    assert (refusal["code"], refusal["line"]) == (23, 2)
    b.send(f"/open {group}", f"/remove {carol}", "/members")
    assert c.expect(lambda e: e.get("op") == "R")["text"] == f"{bob} removed you"
    members = [b.expect("member") for _ in range(3)]
    assert [(m["id"], m.get("admin")) for m in members] == [
        (alice, True), (bob, True), (dave, None)]
    c.send(f"/send {group} still here?")
    assert c.expect("error")["code"] == 0  # refused by the client: not a member any more
    a.send(f"/leave {group}")
    assert b.expect(lambda e: e.get("op") == "L")["text"] == f"{alice} left"
    assert a.finish() == 0 and b.finish() == 0
    assert c.finish() == 1


def test_scripted_group_change_survives_a_server_kill(chat_server: ChatServer, tmp_path: Path,
                                                      clients: list[ClientProcess]) -> None:
    """A /rename typed while the server is down waits in the outbox (journaled) and goes
    after the reconnect; an offline member finds it at login, after a restart of its
    client, with the group named."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)
    a = ClientProcess(chat_server.port, data, "--account", alice, "--timeout", "20")
    clients.append(a)
    a.expect("logged_in")
    a.send(f"/group {bob}")
    group = a.expect("group")["group"]
    chat_server.stop(signal.SIGKILL)
    a.expect("disconnected")
    a.send("/rename after the crash")
    chat_server.start()
    assert a.expect("group_change")["name"] == "after the crash"
    assert a.finish() == 0
    status, events, _ = run_script(chat_server.port, data, f"/members {group}\n",
                                   "--account", bob)
    assert status == 0
    change = next(e for e in events if e["event"] == "group_change")
    assert change["text"] == f"{alice} renamed the group to after the crash"
    status, events, _ = run_script(chat_server.port, data, "/contacts\n", "--account", bob)
    assert status == 0
    assert {"after the crash"} == {e.get("name") for e in events if e["event"] == "group"}
