"""`make soak`: the per-address limits (issue 19) under floods, beside 50 ordinary clients.

Three floods from one address the server does not trust, each in its own
process: a registration flood (a connection, a 01, its answer, a close, again
and again), a connection flood (connections opened as fast as they are
greeted or refused, and held without logging in), and a login-failure flood
(a connection, a 03 with a wrong token, its answer, a close). Meanwhile 50
ordinary clients (25 pairs, hostile.Exchange) exchange 1:1 messages at 40 a
second each. Figure: their p99 latency 05 -> 16 and 05 -> 06 without and with
the flood, the server's CPU, what the flood was answered; a row holds if
neither p99 grows more than 2x and no ordinary client was refused anything. A
control row runs the two phases with no flood: on a shared machine the p99
moves by itself, and that row says how far.

The server runs with --trusted '' (loopback is trusted by default) and the
flood comes from 127.0.0.2, so that the limits bite it and not the ordinary
clients on 127.0.0.1, which stay within the default limits (50 connections
of 64, 50 registrations of a burst of 60).
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import socket
from collections import Counter
from contextlib import nullcontext

from shared import events as ev
from shared.codec import Side, decode, encode
from shared.framebuffer import NEED_MORE, FrameBuffer
from soak import Row
from soak.hostile import (
    GRACE,
    Refused,
    _ratio_row,
    alone_then_beside,
    blocking_session,
    fresh_server,
    in_process,
)

FLOOD_SOURCE = "127.0.0.2"
"""The flood's address: loopback, but not the ordinary clients' one."""
PAIRS = 25
HELD_AT_MOST = 4000
"""Connections the connection flood holds at most (the machine's file descriptors)."""
WRONG = "0" * 32
FLOODS = {
    "register": "a registration flood (connect, 01, close)",
    "connect": "a connection flood (connections held, never logged in)",
    "login": "a login-failure flood (connect, 03 with a wrong token, close)",
}


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=GRACE, source_address=(FLOOD_SOURCE, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _first_answers(sock: socket.socket, count: int) -> list[ev.Event]:
    """The first `count` frames the server sends (fewer if it closes first)."""
    buffer, events = FrameBuffer(), list[ev.Event]()
    while len(events) < count:
        try:
            data = sock.recv(4096)
        except OSError:
            break
        if not data:
            break
        buffer.feed(data)
        while (line := buffer.next_frame()) is not NEED_MORE:
            if isinstance(line, bytes):
                events.append(decode(line, Side.SERVER))
    return events[:count]


def _name(event: ev.Event) -> str:
    return f"13/{event.code:02d}" if isinstance(event, ev.Error) else type(event).__name__


def hammer(kind: str, victim: str, address: tuple[str, int], ready: mp.synchronize.Event,
           stop: mp.synchronize.Event, results: mp.Queue[dict[str, int]]) -> None:
    """A flood of `kind` from FLOOD_SOURCE until stopped; what it was answered, counted."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    stats: Counter[str] = Counter()
    held: list[socket.socket] = []
    frames: dict[str, ev.Event] = {"register": ev.Register(), "login": ev.Login(victim, WRONG)}
    frame = frames.get(kind)
    ready.set()
    while not stop.is_set():
        try:
            sock = _connect(address)
        except OSError:
            stats["connect failed"] += 1
            continue
        stats["connections"] += 1
        if frame is not None:
            sock.sendall(encode(frame))
        answers = _first_answers(sock, 1 if frame is None else 2)
        stats.update(_name(event) for event in answers[1 if frame is not None else 0:])
        if frame is None and answers and isinstance(answers[0], ev.Greeting):
            stats["greeted and held"] += 1
            held.append(sock)
            if len(held) >= HELD_AT_MOST:
                stop.wait()
        else:
            sock.close()
    for sock in held:
        sock.close()
    results.put(dict(stats))


def flood_row(kind: str) -> Row:
    with fresh_server() as server:
        victim = blocking_session(server.address)
        victim.sock.close()
        base, loaded, cpu, stats = alone_then_beside(
            server, in_process(hammer, kind, victim.user, server.address), pairs=PAIRS)
        alive = server.running()
    answers = ", ".join(f"{n} {name}" for name, n in sorted(stats.items()))
    row = _ratio_row(f"{2 * PAIRS} clients beside {FLOODS[kind]} from {FLOOD_SOURCE}",
                     base, loaded, cpu, f"flood: {answers or 'nothing'}")
    return Row("operators", row.what, row.figure, row.ok and alive)


def control_row() -> Row:
    """The two phases with no flood: how far the 50 clients' p99 moves by itself."""
    with fresh_server() as server:
        base, again, cpu, _ = alone_then_beside(server, nullcontext(), pairs=PAIRS)
    row = _ratio_row(f"{2 * PAIRS} clients alone, twice (control)", base, again, cpu,
                     "no flood")
    return Row("operators", row.what, row.figure, row.ok)


def run() -> list[Row]:
    try:
        return [control_row(), *(flood_row(kind) for kind in FLOODS)]
    except Refused as exc:
        return [Row("operators", "50 ordinary clients", f"refused: {exc}", False)]


if __name__ == "__main__":
    for row in run():
        print(row)
