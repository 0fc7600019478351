"""Peer on a real socket pair: which queue entries (07, 09, 11) count as read, and when.

An entry leaves the queue only once the client has answered a 14 sent after it
(PROTOCOL.md 5.3). Time is passed in explicitly, so nothing here waits.
"""

import socket
from collections.abc import Callable, Iterator

import pytest

from interzap_server.limits import TokenBucket
from interzap_server.peer import Peer

PING, PONG = b"14\n", b"15\n"


@pytest.fixture
def pair() -> Iterator[tuple[Peer, socket.socket]]:
    server_side, client_side = socket.socketpair()
    server_side.setblocking(False)
    client_side.settimeout(5.0)  # a guard: the bytes are already there
    peer = Peer(server_side, "127.0.0.1", 1, 1 << 20, TokenBucket(0, 0), 0.0, set())
    yield peer, client_side
    peer.close()
    client_side.close()


def answer(peer: Peer, client: socket.socket, now: float) -> None:
    client.sendall(PONG)
    assert peer.receive(now) == []  # a 15 goes no further than the peer


@pytest.mark.parametrize("ping", [Peer.cover, Peer.ping], ids=["cover", "idle ping"])
def test_entries_are_confirmed_by_the_answer_to_the_ping_after_them(
        pair: tuple[Peer, socket.socket], ping: Callable[[Peer, float], None]) -> None:
    peer, client = pair
    peer.write(b"07a\n", 1)
    peer.write(b"07b\n", 2)
    ping(peer, 1.0)
    peer.flush()
    assert client.recv(100) == b"07a\n07b\n" + PING
    assert peer.take_confirmed() == []  # written is not read
    answer(peer, client, 2.0)
    assert peer.take_confirmed() == [1, 2]
    assert peer.take_confirmed() == []


def test_each_answer_confirms_only_what_came_before_its_ping(
        pair: tuple[Peer, socket.socket]) -> None:
    peer, client = pair
    peer.write(b"07a\n", 1)
    peer.cover(now=1.0)
    peer.write(b"07b\n", 2)
    peer.cover(now=1.0)
    peer.cover(now=1.0)  # nothing new: no third ping
    peer.flush()
    assert client.recv(100) == b"07a\n" + PING + b"07b\n" + PING
    answer(peer, client, 2.0)
    assert peer.take_confirmed() == [1]
    answer(peer, client, 2.0)
    assert peer.take_confirmed() == [2]


def test_a_pong_that_answers_nothing_confirms_nothing_later(
        pair: tuple[Peer, socket.socket]) -> None:
    peer, client = pair
    answer(peer, client, 1.0)  # unsolicited
    peer.write(b"07a\n", 1)
    peer.cover(now=1.0)
    assert peer.take_confirmed() == []
    answer(peer, client, 2.0)
    assert peer.take_confirmed() == [1]


def test_given_up_only_when_the_client_talks_but_never_answers(
        pair: tuple[Peer, socket.socket]) -> None:
    peer, client = pair
    peer.write(b"07a\n", 1)
    peer.cover(now=10.0)
    peer.give_up_on_answers(now=100.0, timeout=30.0)
    assert peer.take_confirmed() == []  # silent since the ping: maybe stopped or dying
    client.sendall(b"08Client-0000011732500000\n")
    assert len(peer.receive(now=20.0)) == 1
    peer.give_up_on_answers(now=35.0, timeout=30.0)
    assert peer.take_confirmed() == []  # talking, but the 14 is not 30 s old yet
    peer.give_up_on_answers(now=41.0, timeout=30.0)
    assert peer.take_confirmed() == [1]
