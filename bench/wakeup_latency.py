"""How long a message takes from its 05 to the recipient's 06, on one node and across two
nodes of one PostgreSQL database (the NOTIFY wake-up, docs/SCALING.md); how long a bare
NOTIFY takes from COMMIT to another process's selector; and how many commits a second
several writers get with and without a NOTIFY in each (PostgreSQL serialises the commits
that notify, across the whole cluster and its fsync).

`python -m bench.wakeup_latency [--messages N] [--no-fsync] [--code DIR]` starts a throwaway
PostgreSQL cluster (fsync on unless told) and two server nodes on it, sends N messages
one at a time (the next once the last 06 arrived, so nothing queues), and prints
p50/p90/p99 in milliseconds, then the commit rates. Small and bounded: a few seconds;
the main figures are `make bench`'s. `--code DIR` runs the nodes of another checkout (to
compare, one right after the other).
"""

import argparse
import selectors
import socket
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg2

from bench.launch import REPO, running, server_command
from bench.pgcluster import Cluster, find_bindir
from shared import events as ev
from shared.codec import Side, decode, encode
from shared.framebuffer import NEED_MORE, FrameBuffer


class Line:
    """One raw connection: send events, wait for one of a kind."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = FrameBuffer()
        self.user = ""
        self.wait(ev.Greeting)

    def send(self, event: ev.Event) -> None:
        self.sock.sendall(encode(event))

    def wait(self, kind: type) -> ev.Event:
        while True:
            frame = self.buffer.next_frame()
            if frame is NEED_MORE:
                data = self.sock.recv(65536)
                if not data:
                    raise RuntimeError("the server closed the connection")
                self.buffer.feed(data)
                continue
            assert isinstance(frame, bytes)
            event = decode(frame, Side.SERVER)
            if isinstance(event, ev.Ping):
                self.send(ev.Pong())
            elif isinstance(event, kind):
                return event

    def register(self) -> "Line":
        self.send(ev.Register())
        registered = self.wait(ev.Registered)
        assert isinstance(registered, ev.Registered)
        self.user = registered.user
        return self


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return (f"p50 {cuts[49] * 1000:.2f} ms, p90 {cuts[89] * 1000:.2f} ms, "
            f"p99 {cuts[98] * 1000:.2f} ms ({len(samples)} messages)")


def message_latency(author: Line, reader: Line, count: int) -> list[float]:
    """05 sent -> 06 read, one message at a time; the reader acknowledges each."""
    samples = []
    first = int(time.time())
    for ts in range(first, first + count):
        started = time.perf_counter()
        author.send(ev.Send(author.user, reader.user, ts, "x"))
        reader.wait(ev.Deliver)
        samples.append(time.perf_counter() - started)
        reader.send(ev.Receipt(author.user, reader.user, ts))
        author.wait(ev.Delivered)
    return samples


def notify_latency(url: str, count: int) -> list[float]:
    """COMMIT of a NOTIFY -> the listener's selector wakes and drains it."""
    listener, talker = psycopg2.connect(url), psycopg2.connect(url)
    listener.autocommit = True
    listener.cursor().execute("LISTEN bench")
    samples = []
    with selectors.DefaultSelector() as selector:
        selector.register(listener.fileno(), selectors.EVENT_READ)
        for _ in range(count):
            talker.cursor().execute("NOTIFY bench, 'x'")
            started = time.perf_counter()
            talker.commit()
            while not listener.notifies:
                selector.select(5)
                listener.poll()
            samples.append(time.perf_counter() - started)
            del listener.notifies[:]
    listener.close()
    talker.close()
    return samples


def commit_rate(url: str, writers: int, seconds: float, notify: bool) -> float:
    """Commits a second of `writers` connections each writing one row per transaction
    (with a NOTIFY in it, or not): NOTIFY serialises commits across the whole cluster."""
    setup = psycopg2.connect(url)
    setup.autocommit = True
    setup.cursor().execute("CREATE TABLE IF NOT EXISTS bench_rows (n int)")
    setup.close()
    counts = [0] * writers
    deadline = time.monotonic() + seconds

    def write(index: int) -> None:
        connection = psycopg2.connect(url)
        cursor = connection.cursor()
        while time.monotonic() < deadline:
            cursor.execute("INSERT INTO bench_rows VALUES (1)"
                           + ("; NOTIFY bench, 'x'" if notify else ""))
            connection.commit()
            counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--no-fsync", action="store_true",
                        help="the cluster without fsync: what the wake-up costs, not the disk")
    parser.add_argument("--code", metavar="DIR", type=Path, default=REPO,
                        help="run the nodes of another checkout")
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's server binaries are needed")
    with ExitStack() as stack:
        cluster = Cluster.start(bindir, durable=not args.no_fsync)
        stack.callback(cluster.stop)
        url = cluster.create_database()
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        nodes = [stack.enter_context(running(f"node-{n}", [*server_command(url),
                                                           "--cluster", "--node", f"node-{n}"],
                                             folder / f"node-{n}.log", args.code))
                 for n in (1, 2)]
        alice, bob, carol = (Line(nodes[0].host, nodes[0].port).register(),
                             Line(nodes[1].host, nodes[1].port).register(),
                             Line(nodes[0].host, nodes[0].port).register())
        print("bare NOTIFY, COMMIT -> heard:", percentiles(notify_latency(url, args.messages)))
        print("05 -> 06, one node:          ",
              percentiles(message_latency(alice, carol, args.messages)))
        print("05 -> 06, across two nodes:  ",
              percentiles(message_latency(alice, bob, args.messages)))
        for writers in (1, 4, 16):
            print(f"commits/s, {writers:2d} writers: without NOTIFY "
                  f"{commit_rate(url, writers, 2.0, notify=False):7.0f}, with "
                  f"{commit_rate(url, writers, 2.0, notify=True):7.0f}")


if __name__ == "__main__":
    main()
