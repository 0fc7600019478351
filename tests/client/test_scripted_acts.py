"""Scripted mode end to end: /reply, /edit, /delete, /react, /reactions between two client
subprocesses and a real server, and the JSON event each side prints (README)."""

from __future__ import annotations

from pathlib import Path

from clientkit import ChatServer, ClientProcess, register

from shared.codes import TOMBSTONE

THUMBS, HEART = "\U0001f44d", "\u2764\ufe0f"


def pair(server: ChatServer, tmp_path: Path,
         clients: list[ClientProcess]) -> tuple[ClientProcess, ClientProcess, str, str]:
    """Alice and Bob logged in, each with the other's chat open."""
    data = tmp_path / "data"
    alice, bob = register(server.port, data), register(server.port, data)
    a = ClientProcess(server.port, data, "--account", alice)
    b = ClientProcess(server.port, data, "--account", bob)
    clients += [a, b]
    a.expect("logged_in")
    b.expect("logged_in")
    a.send(f"/open {bob}")
    b.send(f"/open {alice}")
    return a, b, alice, bob


def test_scripted_acts_each_has_its_event(chat_server: ChatServer, tmp_path: Path,
                                          clients: list[ClientProcess]) -> None:
    """A reply arrives as a message quoting its original; a reaction, an edit and a deletion
    each as their own event naming the message they are about; /reactions lists who."""
    a, b, alice, bob = pair(chat_server, tmp_path, clients)
    a.send("lunch at noon?")
    original = b.expect("message")
    b.send("/reply sure!", f"/react {THUMBS}")
    reply = a.expect("message")
    assert reply["text"] == "sure!"
    assert (reply["ref_author"], reply["ref_ts"]) == (alice, original["ts"])
    assert reply["quote"] == "lunch at noon?" and reply["known"] is True
    reaction = a.expect("reaction")
    assert (reaction["author"], reaction["ref_author"], reaction["ref_ts"], reaction["text"]) == (
        bob, alice, original["ts"], THUMBS)
    a.send("/reactions", f"/edit me@{original['ts']} lunch at one?")
    who = a.expect("reactions")
    assert who["reactions"] == {THUMBS: [bob]}
    edited = b.expect("edited")
    assert (edited["ref_ts"], edited["text"]) == (original["ts"], "lunch at one?")
    a.send(f"/delete me@{original['ts']}")
    deleted = b.expect("deleted")
    assert (deleted["author"], deleted["ref_ts"]) == (alice, original["ts"])
    b.send(f"/react #2 {THUMBS}")  # the deleted message: refused by the client itself
    error = b.expect("error")
    assert "deleted" in error["text"] and error["line"]
    b.send(f"/export {tmp_path / 'bob.json'}")
    b.expect("info")
    assert a.finish() == 0 and b.finish() == 1  # Bob's one error
    assert TOMBSTONE in (tmp_path / "bob.json").read_text()


def test_scripted_acts_refusals_are_errors(chat_server: ChatServer, tmp_path: Path,
                                           clients: list[ClientProcess]) -> None:
    """Editing someone else's message, a reaction that is not one emoji, no message to act
    on: errors naming the line, nothing sent."""
    a, b, alice, _ = pair(chat_server, tmp_path, clients)
    b.send("/edit nothing of mine yet")
    assert "no message" in b.expect("error")["text"]
    a.send("hello")
    original = b.expect("message")
    b.send(f"/edit {alice}@{original['ts']} mine now", "/react ok")
    assert "your own" in b.expect("error")["text"]
    assert "emoji" in b.expect("error")["text"]
    b.send(f"/react {HEART}", f"/react {HEART}")  # given, then taken back
    assert a.expect("reaction")["text"] == HEART
    assert "text" not in a.expect("reaction")
    assert b.finish() == 1
