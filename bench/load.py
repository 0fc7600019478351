"""The load generator: many real TCP clients in one selectors loop, speaking `shared`'s protocol.

One Driver runs in each generator process (bench/fleet.py starts them). Each
client connects, registers (01) or logs in (03), optionally creates or joins
a group (10/11), then, depending on the job's mode:

  window  keeps at most `window` messages in flight (sent, not yet completed by
          the frame `complete_on`: 07, or 16 for offline recipients), for
          `duration` seconds or `count` messages, then drains what is in flight;
  paced   sends at a fixed total rate, round-robin over its clients;
  drain   logs in only at "go", reads `expect` queued 06 per client, then sends
          14 after its last 12 and waits for the 15 (every receipt handled);
  idle    stays logged in and silent.

Every 06 is answered with 12 at once and checked: the text carries its
author, recipient, a sequence number, the send time and a CRC (make_text), so a
receiver in any generator process can tell whether it arrived intact, to the
right recipient, in order and only once, and how long it took: the send time
is time.monotonic_ns(), CLOCK_MONOTONIC, the same clock in every process.
"""

import selectors
import socket
import time
from collections.abc import Callable

from bench.plans import (
    GROUP,
    MAX_ERRORS_KEPT,
    TS_BASE,
    ClientPlan,
    Job,
    Stats,
    make_text,
    parse_text,
)
from shared import events as ev
from shared.codec import Side, decode, encode
from shared.errors import RemoteProtocolError
from shared.framebuffer import NEED_MORE, TOO_LONG, FrameBuffer

RECV_SIZE = 262144
PONG = encode(ev.Pong())


class Client:
    """One connection of the generator and its bookkeeping."""

    __slots__ = ("connected", "fb", "first06", "in_flight", "last_seq", "logged_in", "out", "plan",
                 "received", "sent_at", "seq", "settled", "sock", "target", "token", "user")

    def __init__(self, plan: ClientPlan) -> None:
        self.plan = plan
        self.user = plan.account.user if plan.account else ""
        self.token = plan.account.token if plan.account else ""
        self.target = plan.target
        self.sock: socket.socket | None = None
        self.fb = FrameBuffer()
        self.out = bytearray()
        self.connected = 0  # monotonic ns of the connect() call
        self.logged_in = 0  # monotonic ns of the 02/04, 0 before
        self.first06 = 0
        self.seq = 0  # messages sent
        self.in_flight = 0
        self.received = 0  # 06 received
        self.settled = False  # drain mode: the 15 after our last 12 came back
        self.sent_at: dict[int, int] = {}  # ts -> monotonic ns of its 05
        self.last_seq: dict[str, int] = {}  # author -> newest seq received from it


class Driver:
    """The clients of one job in one selector; every phase stops by itself by its deadline."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.clients = [Client(plan) for plan in job.clients]
        self.sel = selectors.DefaultSelector()
        self.stats = Stats()
        self.sending = False
        self.keep_after = 0  # latency samples of messages sent before this are dropped
        self._dirty: set[Client] = set()
        self._waiting: list[Client] = []  # not yet connected
        self._setting_up = 0  # connected, not yet logged in

    # -- phases ------------------------------------------------------------------

    def log_in_all(self) -> float:
        """Connect every client and register or log it in; returns the seconds it took."""
        start = time.monotonic()
        self._waiting = list(reversed(self.clients))
        self._pump(lambda: not self._waiting and not self._setting_up)
        self.stats.counts["logged_in"] += sum(1 for c in self.clients if c.logged_in)
        return time.monotonic() - start

    def set_up_groups(self) -> None:
        for c in self.clients:
            if c.plan.members:
                self._write(c, encode(ev.CreateGroup(c.user, TS_BASE, c.plan.members)))
        self._flush()
        self._pump(lambda: all(c.target != GROUP for c in self.clients if c.sock))
        for c in self.clients:
            if c.target == GROUP:  # its 11 never came: it only receives
                self.stats.counts["no_group"] += 1
                c.target = None

    def run(self) -> Stats:
        job, stats = self.job, self.stats
        now = time.monotonic_ns()
        stats.t_start = now
        self.keep_after = now + int(job.warmup * 1e9)
        if job.mode == "window":
            self._run_window(now)
        elif job.mode == "paced":
            self._run_paced(now)
        elif job.mode == "drain":
            self.log_in_all()
            self._pump(lambda: all(c.settled for c in self.clients if c.sock))
        stats.counts["clients"] += len(self.clients)
        stats.counts["lost_in_flight"] += sum(c.in_flight for c in self.clients)
        return stats

    def keep_answering(self, stop: Callable[[], bool]) -> None:
        """Go on receiving (and answering 06s and 14s) until stop(), sending nothing new."""
        self._pump(stop)

    def _run_window(self, start: int) -> None:
        job = self.job
        self.sending = True
        for c in self.clients:
            self._top_up(c)
        self._flush()
        if job.duration:
            end = start + int(job.duration * 1e9)
            self._pump(lambda: time.monotonic_ns() >= end, wake=lambda: end)
        else:
            self._pump(lambda: all(c.seq >= job.count for c in self.clients if c.sock))
        self.sending = False
        self._pump(lambda: all(c.in_flight == 0 for c in self.clients if c.sock))

    def _run_paced(self, start: int) -> None:
        job = self.job
        senders = [c for c in self.clients if c.target]
        if not senders or job.rate <= 0:
            return
        interval = int(1e9 / job.rate)
        end = start + int(job.duration * 1e9)
        due = start
        turn = 0

        def send_due() -> int:
            nonlocal due, turn
            now = time.monotonic_ns()
            while due <= now and due < end:
                c = senders[turn % len(senders)]
                turn += 1
                due += interval
                if c.sock is None or c.in_flight >= job.window:
                    self.stats.counts["skipped_window_full"] += 1
                    continue
                self._send(c)
            self._flush()
            return min(due, end)

        self._pump(lambda: time.monotonic_ns() >= end, wake=send_due)
        self._pump(lambda: all(c.in_flight == 0 for c in self.clients if c.sock))

    # -- the loop ----------------------------------------------------------------

    def _pump(self, done: Callable[[], bool], wake: Callable[[], int] | None = None) -> None:
        """Run the loop until done() or the job's timeout; wake() runs every turn, returns
        the monotonic ns it wants to run again at."""
        deadline = time.monotonic() + self.job.timeout
        while not done():
            self._connect_more()
            timeout = 0.2
            if wake is not None:
                timeout = min(timeout, max(0.0, (wake() - time.monotonic_ns()) / 1e9))
            if time.monotonic() > deadline:
                self.stats.counts["phase_timeouts"] += 1
                return
            for key, mask in self.sel.select(timeout):
                c: Client = key.data
                if mask & selectors.EVENT_WRITE:
                    self._writable(c)
                if mask & selectors.EVENT_READ and c.sock is not None:
                    self._read(c)
            self._flush()

    def _connect_more(self) -> None:
        job = self.job
        while self._waiting and self._setting_up < job.parallel:
            c = self._waiting.pop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.connected = time.monotonic_ns()
            sock.connect_ex((job.host, c.plan.port or job.port))
            c.sock = sock
            self._setting_up += 1
            self.sel.register(sock, selectors.EVENT_READ, c)
            login = ev.Login(c.user, c.token) if c.plan.account else ev.Register()
            self._write(c, encode(login))  # waits in `out` until the connection is up

    def _write(self, c: Client, frame: bytes) -> None:
        c.out += frame
        self._dirty.add(c)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for c in dirty:
            self._writable(c)

    def _writable(self, c: Client) -> None:
        if c.sock is None:
            return
        if c.out:
            try:
                sent = c.sock.send(c.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._lost(c, f"send: {exc}")
                return
            del c.out[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.out else 0)
        if self.sel.get_key(c.sock).events != events:
            self.sel.modify(c.sock, events, c)

    def _lost(self, c: Client, why: str) -> None:
        self.stats.counts["disconnects"] += 1
        self._note(f"{c.user or 'client'}: {why}")
        if not c.logged_in:
            self._setting_up -= 1
        if c.sock is not None:
            self.sel.unregister(c.sock)
            c.sock.close()
            c.sock = None
        c.in_flight = 0

    def _note(self, error: str) -> None:
        if len(self.stats.errors) < MAX_ERRORS_KEPT:
            self.stats.errors.append(error)

    def close(self) -> None:
        for c in self.clients:
            if c.sock is not None:
                self.sel.unregister(c.sock)
                c.sock.close()
                c.sock = None
        self.sel.close()

    # -- frames ------------------------------------------------------------------

    def _read(self, c: Client) -> None:
        assert c.sock is not None
        try:
            data = c.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(c, f"recv: {exc}")
            return
        if not data:
            self._lost(c, "closed by the server")
            return
        now = time.monotonic_ns()
        c.fb.feed(data)
        counts = self.stats.counts
        while (line := c.fb.next_frame()) is not NEED_MORE:
            if line is TOO_LONG:
                counts["too_long"] += 1
                continue
            assert isinstance(line, bytes)
            try:
                event = decode(line, Side.SERVER)
            except RemoteProtocolError as exc:
                counts["malformed"] += 1
                self._note(f"{c.user}: malformed frame {line[:40]!r}: {exc.reason}")
                continue
            self._on_event(c, event, now)
        if self.sending and c.target:
            self._top_up(c)
        self.stats.t_end = now

    def _on_event(self, c: Client, event: ev.Event, now: int) -> None:
        counts, stats = self.stats.counts, self.stats
        if isinstance(event, ev.Deliver):
            self._on_deliver(c, event, now)
        elif isinstance(event, ev.Accepted):
            counts["accepted"] += 1
            sent = c.sent_at.pop(event.ts, 0) if self.job.complete_on == 16 else \
                c.sent_at.get(event.ts, 0)
            if sent >= self.keep_after:
                stats.lat16.append(now - sent)
            if self.job.complete_on == 16:
                c.in_flight -= 1
        elif isinstance(event, ev.Delivered):
            counts["completed"] += 1
            sent = c.sent_at.pop(event.ts, 0)
            if sent >= self.keep_after:
                stats.lat07.append(now - sent)
            if self.job.complete_on == 7:
                c.in_flight -= 1
        elif isinstance(event, ev.LoggedIn | ev.Registered):
            if isinstance(event, ev.Registered):
                c.user, c.token = event.user, event.token
            c.logged_in = now
            self._setting_up -= 1
        elif isinstance(event, ev.GroupCreated):
            if c.target == GROUP:
                c.target = event.group
        elif isinstance(event, ev.Pong):
            c.settled = True
        elif isinstance(event, ev.Ping):  # the server confirming its 07s: answer, as clients do
            self._write(c, PONG)
        elif isinstance(event, ev.Error):
            counts["errors"] += 1
            self._note(f"{c.user}: 13/{event.code:02d} {event.reason}")
            if c.in_flight:  # most likely a refused 05: free its slot rather than stall the drain
                c.in_flight -= 1

    def _on_deliver(self, c: Client, event: ev.Deliver, now: int) -> None:
        counts = self.stats.counts
        counts["delivered"] += 1
        c.received += 1
        if not c.first06:
            c.first06 = now
            if c.logged_in:
                self.stats.first_frame.append(now - c.logged_in)
                self.stats.first_after_connect.append(now - c.connected)
        self.stats.t_delivered = now
        self._write(c, encode(ev.Receipt(event.src, event.dst, event.ts)))
        if c.received == c.plan.expect:
            # frames are handled in order: its 15 means the server has handled every 12 before
            self._write(c, encode(ev.Ping()))
        parsed = parse_text(event.text)
        if parsed is None:
            counts["corrupt"] += 1
            return
        src, dst, seq, sent = parsed
        if src != event.src or dst != event.dst or dst not in (c.user, c.target):
            counts["misrouted"] += 1
            return
        last = c.last_seq.get(src, 0)
        if seq <= last:
            counts["duplicates"] += 1
            return
        if seq != last + 1:
            counts["gaps"] += 1
        c.last_seq[src] = seq
        counts["intact"] += 1
        if sent >= self.keep_after:
            self.stats.lat06.append(now - sent)

    def _top_up(self, c: Client) -> None:
        job = self.job
        while c.in_flight < job.window and (not job.count or c.seq < job.count):
            self._send(c)

    def _send(self, c: Client) -> None:
        assert c.target is not None
        c.seq += 1
        c.in_flight += 1
        ts = TS_BASE + c.seq
        now = time.monotonic_ns()
        c.sent_at[ts] = now
        self._write(c, encode(ev.Send(c.user, c.target, ts, make_text(c.user, c.target, c.seq,
                                                                        now))))
        self.stats.counts["sent"] += 1
