"""A bare line router: the yardstick the server is measured against (`python -m bench.baseline`).

One thread, one selector, non-blocking sockets, TCP_NODELAY, one `send` per
connection per loop iteration: the same shape as the real server, minus
everything that costs: no database, no decoding, no validation. It reads the
type code and the recipient by slicing and forwards bytes. It speaks just
enough of the protocol (PROTOCOL.md) for the load generator of bench/load.py:

  00 greeting; 01 -> 02 (the next id, a dummy token); 03 -> 04 (any token)
  then the frames held for that user while it was offline (kept in memory);
  05 -> 16 to the sender and 06 to the recipient or to every other group member;
  12 -> 07 to the author (for a group, after every other member's 12);
  10 -> 11 to every member; 14 -> 15. Anything else is ignored.

It trusts its clients completely: it is a yardstick, not a server.
"""

import argparse
import selectors
import signal
import socket
from collections import defaultdict
from types import FrameType

from shared.codes import ID_WIDTH, TS_WIDTH

DUMMY_TOKEN = b"0" * 32
RECV_SIZE = 65536
_KEY = ID_WIDTH * 2 + TS_WIDTH  # src, dst, ts


class Conn:
    """One connection: socket, unfinished input line, pending output, the user it is."""

    __slots__ = ("inbuf", "out", "sock", "user")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = b""
        self.out = bytearray(b"00Interzap-baseline/1\n")
        self.user = b""


class Router:
    """Everything lives in memory: who is online, held frames, groups, open group receipts."""

    def __init__(self, host: str, port: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.listener = socket.create_server((host, port), backlog=1024)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.wake_r, self.wake_w = socket.socketpair()  # signals wake select() through it
        for end in (self.wake_r, self.wake_w):
            end.setblocking(False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, self.wake_r)
        self.online: dict[bytes, Conn] = {}
        self.held: defaultdict[bytes, list[bytes]] = defaultdict(list)
        self.groups: dict[bytes, list[bytes]] = {}
        self.waiting: dict[bytes, int] = {}  # group message key -> receipts still owed
        self.users = 0
        self.touched: set[Conn] = set()
        self.stopping = False

    def deliver(self, user: bytes, frame: bytes) -> None:
        conn = self.online.get(user)
        if conn is None:
            self.held[user].append(frame)
        else:
            conn.out += frame
            self.touched.add(conn)

    def handle(self, conn: Conn, line: bytes) -> None:
        code = line[:2]
        if code == b"05":
            dst = line[15:28]
            conn.out += b"16" + line[15:38] + b"\n"
            frame = b"06" + line[2:] + b"\n"
            members = self.groups.get(dst)
            if members is None:
                self.deliver(dst, frame)
            else:
                self.waiting[line[2:2 + _KEY]] = len(members) - 1
                for member in members:
                    if member != conn.user:
                        self.deliver(member, frame)
        elif code == b"12":
            author, dst, ts = line[2:15], line[15:28], line[28:38]
            if dst in self.groups:
                key = line[2:2 + _KEY]
                left = self.waiting.get(key, 0) - 1
                if left > 0:
                    self.waiting[key] = left
                    return
                self.waiting.pop(key, None)
            self.deliver(author, b"07" + dst + ts + b"\n")
        elif code == b"03":
            self.log_in(conn, line[2:15], b"04" + line[2:15] + b"\n")
        elif code == b"01":
            self.users += 1
            user = b"Client-%06d" % self.users
            self.log_in(conn, user, b"02" + user + DUMMY_TOKEN + b"\n")
        elif code == b"10":
            group = b"Group-%07d" % (len(self.groups) + 1)
            members = [line[2:15]] + [line[25 + i:38 + i] for i in range(0, len(line) - 25, 13)]
            self.groups[group] = members
            frame = b"11" + group + line[15:25] + b"".join(members) + b"\n"
            for member in members:
                self.deliver(member, frame)
        elif code == b"14":
            conn.out += b"15\n"

    def log_in(self, conn: Conn, user: bytes, answer: bytes) -> None:
        conn.user = user
        self.online[user] = conn
        conn.out += answer
        for frame in self.held.pop(user, ()):
            conn.out += frame

    def read(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close(conn)
            return
        self.touched.add(conn)
        lines = (conn.inbuf + data).split(b"\n")
        conn.inbuf = lines.pop()
        for line in lines:
            self.handle(conn, line)

    def close(self, conn: Conn) -> None:
        self.selector.unregister(conn.sock)
        conn.sock.close()
        self.touched.discard(conn)
        if self.online.get(conn.user) is conn:
            del self.online[conn.user]

    def accept(self) -> None:
        for _ in range(64):
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock)
            self.selector.register(sock, selectors.EVENT_READ, conn)
            self.touched.add(conn)

    def flush(self) -> None:
        touched, self.touched = self.touched, set()
        for conn in touched:
            if conn.out:
                try:
                    sent = conn.sock.send(conn.out)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    self.close(conn)
                    continue
                del conn.out[:sent]
            wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0)
            if self.selector.get_key(conn.sock).events != wanted:
                self.selector.modify(conn.sock, wanted, conn)

    def serve(self) -> None:
        while not self.stopping:
            for key, mask in self.selector.select():
                conn = key.data
                if conn is None:
                    self.accept()
                    continue
                if conn is self.wake_r:
                    self.wake_r.recv(4096)
                    continue
                if mask & selectors.EVENT_WRITE:
                    self.touched.add(conn)
                if mask & selectors.EVENT_READ:
                    self.read(conn)
            self.flush()

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.baseline", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    router = Router(args.host, args.port)
    signal.set_wakeup_fd(router.wake_w.fileno())
    signal.signal(signal.SIGTERM, router.stop)
    signal.signal(signal.SIGINT, router.stop)
    host, port = router.listener.getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    router.serve()


if __name__ == "__main__":
    main()
