"""Scripted mode end to end: /typing, /presence, /privacy and /info between client
subprocesses and a real server, with their --json events (typing, presence, privacy,
receipts)."""

from __future__ import annotations

from pathlib import Path

from clientkit import ChatServer, ClientProcess, register, scripted

from shared.events import HIDDEN, ONLINE


def test_scripted_typing_and_presence(chat_server: ChatServer, tmp_path: Path,
                                      clients: list[ClientProcess]) -> None:
    """bob sees alice typing; alice asks bob's presence (online, then last seen when he
    leaves); with privacy off she sees nobody's and is answered `privacy hidden`."""
    (alice, a), (bob, b) = scripted(chat_server, tmp_path / "data", clients, 2)
    a.send(f"/send {bob} hi", f"/wait delivered {bob}", f"/typing {bob}")
    assert b.expect("typing") == {"event": "typing", "peer": alice, "author": alice}
    a.send(f"/presence {bob}")
    assert a.expect("presence") == {"event": "presence", "peer": bob, "ts": ONLINE,
                                    "text": "online"}
    assert b.finish() == 0
    gone = a.expect("presence")
    assert gone["peer"] == bob and gone["text"] == "last seen" and gone["ts"] > ONLINE
    a.send("/privacy lastseen off", f"/presence {bob}")
    assert a.expect("privacy") == {"event": "privacy", "text": "hidden"}
    assert a.expect("presence") == {"event": "presence", "peer": bob, "ts": HIDDEN,
                                    "text": "hidden"}
    a.send("/privacy lastseen on")
    assert a.expect("privacy") == {"event": "privacy", "text": "shared"}
    assert a.finish() == 0


def test_scripted_info_in_a_group(chat_server: ChatServer, tmp_path: Path,
                                  clients: list[ClientProcess]) -> None:
    """/info on the last message in the open group: a receipts event, per other member
    [id, delivered, read]; read times once they read; outside a group: an error."""
    data = tmp_path / "data"
    (_, a), (bob, b) = scripted(chat_server, data, clients, 2)
    carol = register(chat_server.port, data)
    a.send(f"/group {bob} {carol}", "first", "hello group", "/wait accepted")
    group = a.expect("group")["group"]
    b.expect(lambda e: e["event"] == "message" and e["text"] == "hello group")
    b.send(f"/read {group}", f"/send {group} read it")  # the 08 first, on one connection
    a.expect(lambda e: e["event"] == "message" and e["text"] == "read it")
    a.send("/info")
    receipts = a.expect("receipts")
    assert receipts["peer"] == group
    (b_id, b_got, b_read), (c_id, c_got, c_read) = receipts["states"]
    assert (b_id, c_id) == (bob, carol)
    assert b_got > 0 and b_read >= b_got and (c_got, c_read) == (0, 0)
    a.send("/info 2")
    assert a.expect("receipts")["ts"] < receipts["ts"]
    a.send("/info 3")
    assert "2 message(s)" in a.expect("error")["text"]
    a.send(f"/open {bob}", "/info")
    assert "open one" in a.expect("error")["text"]
    assert b.finish() == 0
    assert a.finish() != 0  # the errors above
