"""`make soak`: hostile input at full size, as rows of the soak table.

- The state machine of tests/hostile/machine.py, for many more runs and steps.
- Floods, measured: ten ordinary clients (five pairs) exchange 1:1 messages at
  40 a second each, first alone, then beside a flooder in another process that
  sends as fast as the socket takes it, on one connection or reconnecting each
  time it is cut. Flooders: 14s, 05s, malformed lines, 12s for unknown keys (12
  is free of the flood limit). Figure: the ordinary clients' p99 latency
  05 -> 16 (accepted) and 05 -> 06 (delivered to the peer) without and with the
  flooder, and the server's CPU; a row holds if neither p99 grows more than 2x.
  A control row runs the two phases with no flooder at all. One more "flooder"
  stays within the limit: bursts of 05s, each as big as the bucket allows, to a
  user whose queue is full (--max-queue).
- A slow client: one that never reads its socket (4 KiB receive buffer) while
  six feeders send it 850-byte messages within the flood limit; it must be cut
  at the output cap, without a 13, get every message again at its next login,
  and the ordinary clients' p99 must stay within 2x.

Every server is a real subprocess on 127.0.0.1, port 0, default limits, a fresh
SQLite file, stopped by pid. The flooders run in their own process (spawned),
stopped by an event and then by pid.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import select
import selectors
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.machine import ServerMachine  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402
from wire import ServerProcess  # noqa: E402

from bench.procstat import cpu_seconds  # noqa: E402
from interzap_server.settings import Settings  # noqa: E402
from shared import events as ev  # noqa: E402
from shared.codec import Side, decode, encode  # noqa: E402
from shared.codes import ErrorCode  # noqa: E402
from shared.errors import RemoteProtocolError  # noqa: E402
from shared.framebuffer import NEED_MORE, FrameBuffer  # noqa: E402
from soak import Row  # noqa: E402

STATEFUL = settings(max_examples=200, stateful_step_count=100, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)
DEFAULTS = Settings()
LIMITS = ("--rate-limit", f"{DEFAULTS.rate_limit:g}", "--rate-burst", str(DEFAULTS.rate_burst),
          "--trusted", "")
"""The server's default flood limit, spelt out (the test harness turns it off otherwise);
the flooders run on loopback, which the server trusts by default: `--trusted ''` bans
them as it would a remote flooder."""
PAIRS = 5
INTERVAL = 0.025
"""Seconds between two 05s of one ordinary client: 40 a second, well under the limit."""
PHASE = 8.0
"""Seconds each measured phase lasts."""
WARM_UP = 3.0
"""Seconds of exchange before the first measured phase (caches, the WAL), not measured."""
GRACE = 10.0
"""Seconds to wait after a phase for its last answers (a guard: they take milliseconds)."""
MAX_RATIO = 2.0
FEEDERS = 6
FEED_RATE = 90.0
"""05s a second per feeder of the slow client: under the flood limit."""
BIG_TEXT = "\N{GRINNING FACE}" * 200  # 200 code points, 800 bytes


# -- an ordinary client, non-blocking ----------------------------------------------------------


def frames_from(sock: socket.socket, buffer: FrameBuffer) -> tuple[list[ev.Event], bool]:
    """Everything readable now, decoded; and whether the server closed."""
    events: list[ev.Event] = []
    closed = False
    try:
        while data := sock.recv(262144):
            buffer.feed(data)
            if len(data) < 262144:
                break
        else:
            closed = True
    except (BlockingIOError, InterruptedError):
        pass
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    while (line := buffer.next_frame()) is not NEED_MORE:
        if isinstance(line, bytes):
            try:
                events.append(decode(line, Side.SERVER))
            except RemoteProtocolError:
                events.append(ev.Error(ErrorCode.MALFORMED, "the server sent a bad frame"))
    return events, closed


@dataclass
class Session:
    """A connection, registered or logged in; its buffer may already hold what followed."""

    sock: socket.socket
    user: str
    token: str
    buffer: FrameBuffer


class Refused(ConnectionError):
    """The server answered the login with a 13 (a flooder's address is banned), or closed."""


def blocking_session(address: tuple[str, int], login: tuple[str, str] | None = None,
                     rcvbuf: int | None = None) -> Session:
    """A connection, registered (or logged in), left non-blocking; raises Refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connect, so the window is sized by it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(GRACE)
    sock.connect(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(encode(ev.Login(*login) if login else ev.Register()))
    buffer = FrameBuffer()
    while True:
        data = sock.recv(4096)
        if not data:
            sock.close()
            raise Refused("the server closed while logging in")
        buffer.feed(data)
        while (line := buffer.next_frame()) is not NEED_MORE:
            assert isinstance(line, bytes)
            event = decode(line, Side.SERVER)
            if isinstance(event, ev.Registered):
                sock.setblocking(False)
                return Session(sock, event.user, event.token, buffer)
            if isinstance(event, ev.LoggedIn) and login:
                sock.setblocking(False)
                return Session(sock, login[0], login[1], buffer)
            if isinstance(event, ev.Error):
                sock.close()
                raise Refused(f"13/{event.code:02d} {event.reason}")


@dataclass
class Chatter:
    sock: socket.socket
    user: str
    peer: str = ""
    buffer: FrameBuffer = field(default_factory=FrameBuffer)
    outstanding: deque[tuple[str, str, int]] = field(default_factory=deque)  # 05s awaiting 16
    next_ts: int = 1_800_000_000


@dataclass
class Latencies:
    accept: list[float] = field(default_factory=list)  # 05 -> 16, seconds
    deliver: list[float] = field(default_factory=list)  # 05 -> peer's 06
    refused: Counter[int] = field(default_factory=Counter)
    unanswered: int = 0

    @staticmethod
    def p(values: list[float], q: int) -> float:
        """The q-th percentile in milliseconds (infinite without samples)."""
        if len(values) < 2:
            return float("inf")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000

    def p99(self) -> tuple[float, float]:
        return self.p(self.accept, 99), self.p(self.deliver, 99)


class Exchange:
    """Five pairs of ordinary clients writing to each other at a steady pace."""

    def __init__(self, address: tuple[str, int], pairs: int = PAIRS) -> None:
        sessions = [blocking_session(address) for _ in range(2 * pairs)]
        self.chatters = [Chatter(s.sock, s.user, buffer=s.buffer) for s in sessions]
        for a, b in zip(self.chatters[::2], self.chatters[1::2], strict=True):
            a.peer, b.peer = b.user, a.user
        self.by_user = {c.user: c for c in self.chatters}

    def close(self) -> None:
        for chatter in self.chatters:
            chatter.sock.close()

    def run(self, seconds: float) -> Latencies:
        result = Latencies()
        sent_at: dict[tuple[str, str, int], float] = {}
        undelivered: set[tuple[str, str, int]] = set()
        selector = selectors.DefaultSelector()
        for chatter in self.chatters:
            selector.register(chatter.sock, selectors.EVENT_READ, chatter)
        start = time.perf_counter()
        end = start + seconds
        due = [start + i * INTERVAL / len(self.chatters) for i in range(len(self.chatters))]
        try:
            while True:
                now = time.perf_counter()
                if now < end:
                    for i, chatter in enumerate(self.chatters):
                        if due[i] <= now:
                            due[i] += INTERVAL
                            chatter.next_ts += 1
                            key = (chatter.user, chatter.peer, chatter.next_ts)
                            sent_at[key] = time.perf_counter()
                            chatter.sock.sendall(encode(ev.Send(*key, "measured")))
                            chatter.outstanding.append(key)
                            undelivered.add(key)
                    wait = max(0.0, min(min(due), end) - time.perf_counter())
                else:
                    if not undelivered and not any(c.outstanding for c in self.chatters):
                        break
                    if now > end + GRACE:
                        result.unanswered = len(undelivered) + sum(
                            len(c.outstanding) for c in self.chatters)
                        break
                    wait = 0.05
                for key_, _ in selector.select(wait):
                    self._read(key_.data, result, sent_at, undelivered)
        finally:
            selector.close()
        return result

    def _read(self, chatter: Chatter, result: Latencies,
              sent_at: dict[tuple[str, str, int], float],
              undelivered: set[tuple[str, str, int]]) -> None:
        events, closed = frames_from(chatter.sock, chatter.buffer)
        now = time.perf_counter()
        assert not closed, f"{chatter.user}: the server closed an ordinary client"
        receipts = []
        for event in events:
            if isinstance(event, ev.Accepted):
                key = chatter.outstanding.popleft()
                assert key[1:] == (event.dst, event.ts), (key, event)
                result.accept.append(now - sent_at[key])
            elif isinstance(event, ev.Error):
                result.refused[event.code] += 1
                key = chatter.outstanding.popleft()
                undelivered.discard(key)
            elif isinstance(event, ev.Deliver):
                key = (event.src, event.dst, event.ts)
                if key in undelivered:
                    undelivered.discard(key)
                    result.deliver.append(now - sent_at[key])
                receipts.append(encode(ev.Receipt(*key)))
        if receipts:
            chatter.sock.sendall(b"".join(receipts))


# -- flooders, in their own process ----------------------------------------------------------


def _flood_frames(kind: str, user: str, counter: int, count: int, target: str) -> bytes:
    if kind == "full":  # a burst, as the bucket allows after a pause
        return b"".join(encode(ev.Send(user, target, counter + i, "knock"))
                        for i in range(DEFAULTS.rate_burst - 1))
    if kind == "ping":
        return encode(ev.Ping()) * count
    if kind == "garbage":
        return b"x\n" * count
    if kind == "receipt":
        return b"".join(encode(ev.Receipt("Client-999999", user, counter + i))
                        for i in range(count))
    return b"".join(encode(ev.Send(user, user, counter + i, "flood")) for i in range(count))


def flooder(kind: str, reconnect: bool, target: str, address: tuple[str, int],
            ready: mp.synchronize.Event, stop: mp.synchronize.Event, results: mp.Queue) -> None:
    """Send `kind` frames as fast as the socket takes them (reconnecting whenever cut), or,
    for "full", a burst of 05s to `target` whenever the bucket is full again: never refused."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    needs_login = kind in ("send", "receipt", "full")
    pace = 1.05 * DEFAULTS.rate_burst / DEFAULTS.rate_limit
    due = time.perf_counter()
    credentials: tuple[str, str] | None = None
    user = "Client-000000"
    stats: Counter[str] = Counter()
    counter = 1_800_000_000
    ready.set()
    while not stop.is_set() and (reconnect or not stats["connections"]):
        try:
            if needs_login:
                session = blocking_session(address, credentials)
                sock, user, buffer = session.sock, session.user, session.buffer
                credentials = (user, session.token)
            else:
                sock, buffer = socket.create_connection(address), FrameBuffer()
                sock.setblocking(False)
        except Refused:
            stats["refused at login"] += 1
            continue
        except OSError:
            stats["connect failed"] += 1
            continue
        stats["connections"] += 1
        pending = b""
        closed = False
        with sock:
            while not stop.is_set():
                if kind == "full" and not pending:
                    due += pace
                    time.sleep(max(0.0, due - time.perf_counter()))  # pacing the load
                if not pending:
                    pending = _flood_frames(kind, user, counter, 500, target)
                    counter += 500
                try:
                    taken = sock.send(pending)
                except (BlockingIOError, InterruptedError):
                    taken = 0
                except OSError:
                    taken, closed = 0, True  # cut: read what came before the close
                stats["bytes sent"] += taken
                pending = pending[taken:]
                events, closed_now = frames_from(sock, buffer)
                closed = closed or closed_now
                for event in events:
                    name = f"13/{event.code:02d}" if isinstance(event, ev.Error) else \
                        type(event).__name__
                    stats[name] += 1
                if closed:
                    break
                if taken == 0 and kind != "full":
                    select.select([sock], [sock], [], 0.01)
    stop.wait()
    results.put(dict(stats))


def feeders(victim: str, address: tuple[str, int], ready: mp.synchronize.Event,
            stop: mp.synchronize.Event, results: mp.Queue) -> None:
    """FEEDERS clients sending big messages to `victim`, each at FEED_RATE a second."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sessions = [blocking_session(address) for _ in range(FEEDERS)]
    ready.set()
    stats: Counter[str] = Counter()
    ts = 1_800_000_000
    due = time.perf_counter()
    while not stop.is_set():
        for session in sessions:
            ts += 1
            session.sock.sendall(encode(ev.Send(session.user, victim, ts, f"{ts}{BIG_TEXT}")))
            stats["sent"] += 1
            events, _ = frames_from(session.sock, session.buffer)
            for event in events:
                stats["accepted" if isinstance(event, ev.Accepted) else
                      f"13/{event.code:02d}" if isinstance(event, ev.Error) else "other"] += 1
        due += 1 / FEED_RATE
        time.sleep(max(0.0, due - time.perf_counter()))  # pacing the load, not a test wait
    for session in sessions:  # the last 16s
        sock, buffer = session.sock, session.buffer
        sock.settimeout(GRACE)  # blocking, with a guard
        sock.sendall(encode(ev.Ping()))
        while True:
            data = sock.recv(65536)
            if not data:
                break
            buffer.feed(data)
            done = False
            while (line := buffer.next_frame()) is not NEED_MORE:
                assert isinstance(line, bytes)
                event = decode(line, Side.SERVER)
                if isinstance(event, ev.Accepted):
                    stats["accepted"] += 1
                elif isinstance(event, ev.Error):
                    stats[f"13/{event.code:02d}"] += 1
                done |= isinstance(event, ev.Pong)
            if done:
                break
    results.put(dict(stats))


@contextmanager
def in_process(target: object, *args: object) -> Iterator[dict[str, int]]:
    """Run target(*args, ready, stop, results) in a spawned process; yields once it is ready
    (set up, so that starting Python is not measured), and fills the stats once stopped."""
    context = mp.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    results = context.Queue()
    process = context.Process(target=target, args=(*args, ready, stop, results), daemon=True)
    process.start()
    stats: dict[str, int] = {}
    try:
        assert ready.wait(GRACE * 3), "the load process did not start"
        yield stats
    finally:
        stop.set()
        try:
            stats.update(results.get(timeout=30))
        except Exception:
            stats["no report"] = 1
        process.join(10)
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGKILL)
            process.join(10)


# -- scenarios ---------------------------------------------------------------------------------


@contextmanager
def server_load(server: ServerProcess) -> Iterator[list[float]]:
    """The server's CPU use over the block, as a fraction of one core (yielded list)."""
    share: list[float] = []
    cpu, wall = cpu_seconds(server.pid), time.monotonic()
    yield share
    share.append((cpu_seconds(server.pid) - cpu) / (time.monotonic() - wall))


@contextmanager
def fresh_server(*extra: str) -> Iterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="interzap-soak-hostile-") as folder:
        server = ServerProcess(Path(folder) / "interzap.db", log_path=Path(folder) / "server.log",
                               log_level="warning", extra_args=(*LIMITS, *extra))
        try:
            yield server
        finally:
            server.stop()


T = TypeVar("T")


def alone_then_beside(server: ServerProcess, beside: AbstractContextManager[T],
                      pairs: int = PAIRS) -> tuple[Latencies, Latencies, tuple[float, float], T]:
    """The ordinary clients' latencies alone, then while `beside` is entered; the server's
    CPU share in each phase; and what `beside` yielded."""
    exchange = Exchange(server.address, pairs)
    exchange.run(WARM_UP)
    with server_load(server) as cpu0:
        base = exchange.run(PHASE)
    with beside as disturbance, server_load(server) as cpu1:
        loaded = exchange.run(PHASE)
    exchange.close()
    return base, loaded, (cpu0[0], cpu1[0]), disturbance


def _ratio_row(what: str, base: Latencies, loaded: Latencies, cpu: tuple[float, float],
               extra: str) -> Row:
    (a0, d0), (a1, d1) = base.p99(), loaded.p99()
    ratio = max(a1 / a0, d1 / d0)
    refused = sum(base.refused.values()) + sum(loaded.refused.values())
    lost = base.unanswered + loaded.unanswered
    figure = (f"p99 05->16 {a0:.1f} -> {a1:.1f} ms, 05->06 {d0:.1f} -> {d1:.1f} ms, "
              f"ratio {ratio:.2f} (n={len(loaded.accept)}); server CPU {cpu[0]:.0%} -> "
              f"{cpu[1]:.0%}; ordinary refused {refused}, unanswered {lost}; {extra}")
    return Row("hostile", what, figure, ratio <= MAX_RATIO and refused == 0 and lost == 0)


FLOODS = {
    "ping": "a client flooding 14s",
    "send": "a client flooding 05s (new keys)",
    "garbage": "a client flooding malformed lines",
    "receipt": "a client flooding 12s for unknown keys",
    "full": "a client sending bursts of 199 05s every 2.1 s (within the limit) to a user "
            "whose queue is full",
}
"""What each flooder sends; every line costs a token but 12s (and 15s), which are free."""
FLOOD_RUNS = (("ping", False), ("ping", True), ("send", False), ("send", True),
              ("garbage", False), ("receipt", False), ("full", False))
"""(kind, reconnect when cut): a flood on one connection, and one that comes back."""


def control_row() -> Row:
    """Two phases with no flooder: how far p99 moves by itself (the noise under the 2x)."""
    with fresh_server() as server:
        base, again, cpu, _ = alone_then_beside(server, nullcontext())
    return _ratio_row("10 clients alone, twice (control)", base, again, cpu, "no flooder")


def fill_queue(address: tuple[str, int]) -> str:
    """A user owed the default --max-queue frames (sent from fresh connections, each within
    its burst); its id."""
    victim = blocking_session(address)
    victim.sock.close()
    filler = blocking_session(address)
    credentials, ts = (filler.user, filler.token), 1_700_000_000
    while True:
        filler.sock.settimeout(GRACE)  # blocking, with a guard
        filler.sock.sendall(b"".join(encode(ev.Send(filler.user, victim.user, ts + i, "fill"))
                                     for i in range(DEFAULTS.rate_burst - 1)))
        ts += DEFAULTS.rate_burst
        events: list[ev.Event] = []
        while len(events) < DEFAULTS.rate_burst - 1:
            filler.buffer.feed(filler.sock.recv(65536))
            while (line := filler.buffer.next_frame()) is not NEED_MORE:
                assert isinstance(line, bytes)
                events.append(decode(line, Side.SERVER))
        filler.sock.close()
        if any(isinstance(e, ev.Error) and e.code == ErrorCode.QUEUE_FULL for e in events):
            return victim.user
        filler = blocking_session(address, credentials)


def flood_row(kind: str, reconnect: bool = True) -> Row:
    with fresh_server() as server:
        target = fill_queue(server.address) if kind == "full" else ""
        base, loaded, cpu, stats = alone_then_beside(
            server, in_process(flooder, kind, reconnect, target, server.address))
        alive = server.running()
    sent = stats.get("bytes sent", 0)
    answers = ", ".join(f"{n} {name}" for name, n in sorted(stats.items())
                        if name in ("Pong", "Accepted", "refused at login")
                        or name.startswith("13/"))
    extra = (f"flooder: {sent / 1e6:.1f} MB sent on {stats.get('connections', 0)} "
             f"connection(s), answers read: {answers or 'none'}")
    how = ", reconnecting when cut" if reconnect else " on one connection"
    row = _ratio_row(f"10 clients beside {FLOODS[kind]}{how}", base, loaded, cpu, extra)
    return Row(row.area, row.what, row.figure, row.ok and alive)


def slow_client_row() -> Row:
    with fresh_server() as server:
        victim = blocking_session(server.address, rcvbuf=4096)
        base, loaded, cpu, stats = alone_then_beside(
            server, in_process(feeders, victim.user, server.address))
        victim.sock.settimeout(GRACE)  # blocking, with a guard
        buffer, got, closed = victim.buffer, Counter[str](), False
        while not closed:  # now read what it never read: frames, then the close
            try:
                data = victim.sock.recv(262144)
            except ConnectionResetError:
                data = b""
            except TimeoutError:
                break
            closed = not data
            buffer.feed(data)
            while (line := buffer.next_frame()) is not NEED_MORE:
                assert isinstance(line, bytes)
                got[type(decode(line, Side.SERVER)).__name__] += 1
        victim.sock.close()
        again = blocking_session(server.address, login=(victim.user, victim.token))
        redelivered = _drain_queue(again, stats.get("accepted", 0))
        again.sock.close()
        log = server.log_path.read_text(errors="replace")
        cap_cut = "bytes unread, disconnecting" in log
    accepted = stats.get("accepted", 0)
    extra = (f"slow client: cut={closed} (log says output cap: {cap_cut}), "
             f"{got['Deliver']} of {accepted} 06 read before the cut, 13s {got['Error']}; "
             f"at its next login {redelivered} of {accepted} came again")
    row = _ratio_row("10 clients beside a client that never reads (6 feeders)", base, loaded,
                     cpu, extra)
    ok = row.ok and closed and cap_cut and got["Error"] == 0 and redelivered == accepted
    return Row(row.area, row.what, row.figure, ok)


def _drain_queue(session: Session, expected: int) -> int:
    """Read a login's queue, acknowledging each 06, until `expected` distinct 06s came
    (or nothing more comes within GRACE); then a ping shows nothing more was owed."""
    sock, buffer = session.sock, session.buffer
    sock.settimeout(GRACE)  # blocking, with a guard
    keys: set[tuple[str, int]] = set()
    pinged = False
    data = b""
    while True:
        buffer.feed(data)
        while (line := buffer.next_frame()) is not NEED_MORE:
            assert isinstance(line, bytes)
            event = decode(line, Side.SERVER)
            if isinstance(event, ev.Deliver):
                assert (event.src, event.ts) not in keys, "a 06 came twice on one connection"
                keys.add((event.src, event.ts))
                sock.sendall(encode(ev.Receipt(event.src, event.dst, event.ts)))
            elif isinstance(event, ev.Pong):
                return len(keys)
        if len(keys) >= expected and not pinged:
            pinged = True
            sock.sendall(encode(ev.Ping()))
        try:
            data = sock.recv(262144)
        except TimeoutError:
            return len(keys)
        if not data:
            return len(keys)


def stateful_row() -> Row:
    ServerMachine.checked.clear()
    started = time.monotonic()
    failure = ""
    try:
        run_state_machine_as_test(ServerMachine, settings=STATEFUL)
    except Exception as exc:
        failure = f"; FAILED: {str(exc).splitlines()[0][:200]}"
    seconds = time.monotonic() - started
    checked = ServerMachine.checked
    errors = sum(n for kind, n in checked.items() if kind.isdigit())
    figure = (f"{STATEFUL.max_examples} runs of up to {STATEFUL.stateful_step_count} steps, "
              f"{sum(checked.values()):,} frames checked: {checked['Accepted']:,} 16, "
              f"{checked['Deliver']:,} 06, {checked['Delivered']:,} 07, "
              f"{checked['ReadNotice']:,} 09, {checked['GroupCreated']:,} 11, "
              f"{errors:,} 13 ({len([k for k in checked if k.isdigit()])} codes); "
              f"{seconds:.0f} s{failure}")
    return Row("hostile", "random valid+invalid frames from 4 connections (state machine)",
               figure, not failure)


def run() -> list[Row]:
    rows = [stateful_row(), control_row()]
    rows += [flood_row(kind, reconnect) for kind, reconnect in FLOOD_RUNS]
    rows.append(slow_client_row())
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
