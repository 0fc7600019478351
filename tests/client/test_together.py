"""Where the features of #17 and #18 meet: search after edits and deletions, replies and
edits of several lines, the export after all of it, names in every line. Real server
subprocesses, scripted clients and in-process sessions (clientkit)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from clientkit import (
    GUARD,
    ChatServer,
    ClientProcess,
    logged_in,
    offline,
    online,
    register,
    run,
    run_script,
    until,
)

from interzap_client.conversations import Tick
from interzap_client.message_acts import quote
from shared.codes import ActKind

LS = "\u2028"


def pair(server: ChatServer, tmp_path: Path,
         clients: list[ClientProcess]) -> tuple[ClientProcess, ClientProcess, str, str]:
    """Alice and Bob logged in, each with the other's chat open."""
    (alice, bob), (a, b) = logged_in(server.port, tmp_path / "data", clients, 2)
    a.send(f"/open {bob}")
    b.send(f"/open {alice}")
    return a, b, alice, bob


def found(client: ClientProcess, words: str) -> list[str]:
    """The texts /search WORDS finds, newest first."""
    client.send(f"/search {words}")
    texts = []
    while (event := client.expect(lambda e: e["event"] in ("found", "searched")))["event"] \
            == "found":
        texts.append(event["text"])
    return texts


def test_search_follows_edits_and_deletions(chat_server: ChatServer, tmp_path: Path,
                                            clients: list[ClientProcess]) -> None:
    """After an edit /search finds the new text, not the old, on both sides; after a
    deletion nothing of it, also once the journal is replayed by a new start."""
    a, b, _, bob = pair(chat_server, tmp_path, clients)
    a.send("apple pie")
    original = b.expect("message")
    assert found(b, "apple") == ["apple pie"]
    a.send(f"/edit me@{original['ts']} cherry pie")
    b.expect("edited")
    assert found(b, "apple") == [] and found(b, "cherry") == ["cherry pie"]
    assert found(a, "apple") == [] and found(a, "cherry") == ["cherry pie"]
    a.send(f"/delete me@{original['ts']}")
    b.expect("deleted")
    assert found(b, "cherry") == [] and found(b, "pie") == []
    assert found(a, "cherry") == [] and found(a, "pie") == []
    assert a.finish() == 0 and b.finish() == 0
    again = ClientProcess(chat_server.port, tmp_path / "data", "--account", bob)
    clients.append(again)
    again.expect("logged_in")
    assert found(again, "pie") == [] and found(again, "deleted") == []


def test_no_typing_in_a_group_left(chat_server: ChatServer, tmp_path: Path) -> None:
    """A member who left a group types there no more: its chat is read-only, so no 27
    goes (the server would drop it anyway); typing to a person still goes."""
    data = tmp_path / "data"
    alice, bob, carol = (register(chat_server.port, data) for _ in range(3))

    async def scenario() -> None:
        a, a_task = await online(data, chat_server.port, alice)
        b, b_task = await online(data, chat_server.port, bob)
        group = await asyncio.wait_for(a.create_group((bob, carol)), GUARD)
        assert group is not None
        await until(b, lambda: group in b.need_state().conversations)
        change = b.change_group(group, "L")
        await until(b, lambda: bob not in b.need_state().conversation(group).members)
        assert change is not None and not b.live.typed(group)
        assert b.live.typed(alice)
        await offline(b, b_task)
        await offline(a, a_task)

    run(scenario)


def test_reply_and_edit_of_several_lines(chat_server: ChatServer, tmp_path: Path) -> None:
    """A reply or an edit typed with line breaks (Alt+Enter, a paste) goes as U+2028 like a
    message, instead of being refused for a control character; a reply quotes a text of
    several lines on one line. Typing after a reply is told at once, as after a message."""
    data = tmp_path / "data"
    alice, bob = register(chat_server.port, data), register(chat_server.port, data)

    async def scenario() -> None:
        a, a_task = await online(data, chat_server.port, alice)
        b, b_task = await online(data, chat_server.port, bob)
        message = a.send_text(bob, "line one\nline two")
        await until(b, lambda: message.key in b.need_state().messages)
        await until(a, lambda: message.tick is not None and message.tick >= Tick.ACCEPTED)
        got = b.need_state().messages[message.key]
        assert b.live.typed(alice)
        reply = b.act_on(got, ActKind.REPLY, "yes\nno")
        assert b.live.typed(alice)  # a reply ends typing as a message does: says so again
        a.act_on(message, ActKind.EDIT, "new one\r\nnew two")
        await until(a, lambda: reply.key in a.need_state().messages)
        assert a.need_state().messages[reply.key].text == f"yes{LS}no"
        await until(b, lambda: got.edited > 0)
        assert got.text == f"new one{LS}new two" and quote(got) == "new one new two"
        await offline(b, b_task)
        await offline(a, a_task)

    run(scenario)


def test_group_acts_changes_and_the_export(chat_server: ChatServer, tmp_path: Path,
                                           clients: list[ClientProcess]) -> None:
    """In a named group: a reply quotes a text of several lines on one line, also when
    /search finds it; a removed member's reaction and reply are refused by their client
    (the server's 13/07: tests/server/test_admin_acts.py), nothing is left waiting, and
    they get no later act; the export after edits, a deletion, texts of several lines and
    group changes is the same from the running client and from its journal replayed."""
    data = tmp_path / "data"
    (alice, bob, carol), (a, b, c) = logged_in(chat_server.port, data, clients, 3)
    dave = register(chat_server.port, data)
    a.send("/name Alice", f"/group club: {bob} {carol}")
    group = a.expect("group")["group"]
    for client in (b, c):
        client.send(f"/open {group}")
    a.send(f"/ml {group} line one\\nline two")
    original = b.expect("message")
    ref = f"{alice}@{original['ts']}"
    b.send(f"/reply {ref} got it")
    assert a.expect(lambda e: e.get("quote") is not None)["quote"] == "line one line two"
    a.send("/search got")  # a reply found says what it answers, as its message event did
    hit = a.expect("found")
    assert (hit["text"], hit["ref_author"], hit["quote"]) == ("got it", alice, "line one line two")
    a.send(f"/open {group}", f"/invite {dave}", f"/remove {carol}")
    assert c.expect(lambda e: e.get("op") == "R")["text"] == "Alice removed you"
    c.send(f"/react {ref} \U0001f44d", f"/reply {ref} still here?")
    for _ in range(2):  # refused by the client itself, as a message is: nothing queued
        error = c.expect("error")
        assert error["code"] == 0 and "no longer a member" in error["text"]
    a.send(f"/edit {ref} edited{LS}twice", "after carol")
    assert b.expect("edited")["text"] == "edited\ntwice"  # a script's line break: U+2028
    b.expect(lambda e: e.get("text") == "after carol")
    a.send(f"/delete {ref}")
    b.expect("deleted")
    b.send(f"/export {tmp_path / 'running.json'}")
    b.expect("info")
    assert b.finish() == 0 and a.finish() == 0 and c.finish() == 1
    assert not [e for e in c.events if e["event"] in ("edited", "deleted", "pending")]
    assert not [e for e in c.events if e.get("text") == "after carol"]
    status, _, _ = run_script(0, data, "", "--account", bob, "export",
                              str(tmp_path / "replayed.json"))
    assert status == 0
    running = json.loads((tmp_path / "running.json").read_text())
    assert running == json.loads((tmp_path / "replayed.json").read_text())
    assert [m["content"] for m in running["messages"][group]] == [
        "this message was deleted", "got it", "after carol"]
