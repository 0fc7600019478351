"""FloodBans and the Tarpit on their own: how long an address stays banned, what its new
connections hear and when, and that both stay bounded."""

import math
import socket

from interzap_server.limits import FloodBans
from interzap_server.tarpit import Tarpit


def test_ban_lasts_its_seconds_and_is_renewed() -> None:
    bans = FloodBans(10.0)
    bans.ban("10.0.0.1", now=100.0)
    assert bans.remaining("10.0.0.1", 104.0) == 6.0
    assert bans.remaining("10.0.0.2", 104.0) == 0.0
    assert bans.remaining("10.0.0.1", 110.0) == 0.0
    bans.ban("10.0.0.1", now=108.0)  # cut again: the ban starts afresh
    assert bans.remaining("10.0.0.1", 110.0) == 8.0


def test_zero_seconds_bans_nobody() -> None:
    bans = FloodBans(0.0)
    bans.ban("10.0.0.1", now=100.0)
    assert bans.remaining("10.0.0.1", 100.0) == 0.0


def test_prune_forgets_ended_bans_and_capacity_forgets_the_oldest() -> None:
    bans = FloodBans(10.0, capacity=2)
    bans.ban("a", now=0.0)
    bans.ban("b", now=5.0)
    bans.ban("c", now=6.0)  # over capacity: "a", the oldest, goes early
    assert len(bans) == 2
    assert bans.remaining("a", 7.0) == 0.0
    assert bans.remaining("b", 7.0) == 8.0
    bans.prune(15.5)  # "b" ended at 15
    assert len(bans) == 1
    assert bans.remaining("c", 15.5) == 0.5


def test_tarpit_holds_until_the_ban_ends_within_its_bounds() -> None:
    """Held connections hear nothing until their ban ends; past a bound, refusal is at once."""
    tarpit = Tarpit(per_address=2, in_all=3)
    pairs = [socket.socketpair() for _ in range(4)]
    clients = [client for _, client in pairs]
    for client in clients:
        client.settimeout(5.0)  # a guard: every answer below is already written
    tarpit.hold(pairs[0][0], "a", False, until=10.0, now=0.0)
    tarpit.hold(pairs[1][0], "a", False, until=10.0, now=0.0)
    tarpit.hold(pairs[2][0], "a", False, until=10.0, now=0.0)  # a third from "a": at once
    assert clients[2].recv(100) == b"1310this address was cut for flooding; try again in 10 s\n"
    tarpit.hold(pairs[3][0], "b", False, until=12.0, now=0.0)
    assert len(tarpit) == 3
    tarpit.release(now=9.0)
    assert len(tarpit) == 3
    tarpit.release(now=10.0)
    assert len(tarpit) == 1
    for client in clients[:2]:
        assert client.recv(100).startswith(b"1310this address was cut for flooding; you may")
        assert client.recv(100) == b""  # closed
    tarpit.release(now=math.inf)
    assert len(tarpit) == 0
    for client in clients:
        client.close()
