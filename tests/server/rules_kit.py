"""The chat rules in process: real Services, Sessions and Stores, no sockets, explicit times.

A Node is one server process as the loop would drive it: each frame() is one
loop iteration (a batch) followed by the top-up of sessions catching up. A
Line is a connection that keeps the frames written to it, decoded. Several
Nodes on one SQLite file are several server processes on one database; what
was committed is read through an independent connection (backends.rows).

Used through the `node` fixture (tests/server/conftest.py).
"""

from collections.abc import Callable
from pathlib import Path

from backends import rows

from interzap_server.service import Service
from interzap_server.sessions import Sessions
from interzap_server.storage import Store, open_store
from shared import events as ev
from shared.codec import Side, decode, encode

TS = 1_700_000_000
T0 = 1000.0  # loop time of the first batch


class Line:
    """A connection as the service sees it, keeping what is written to it."""

    def __init__(self) -> None:
        self.frames: list[ev.Event] = []
        self.backlog = 0
        self.strikes = 0

    def write(self, data: bytes, entry: int | None = None) -> None:
        self.frames += [decode(line, Side.SERVER) for line in data.splitlines()]

    def close_when_flushed(self) -> None:
        pass

    def strike(self) -> None:
        self.strikes += 1

    def take(self) -> list[ev.Event]:
        frames, self.frames = self.frames, []
        return frames


class Node:
    """One server process on the database file `db`, without sockets."""

    def __init__(self, db: Path | str, shared: bool = False, max_queue: int = 10_000) -> None:
        """`db`: an SQLite file, or a PostgreSQL URL (then `shared` nodes hear each other)."""
        self.db = db
        self.store: Store = open_store(str(db), shared=shared)
        self.sessions = Sessions(self.store)
        self.service = Service(self.store, self.sessions, max_queue=max_queue)

    def connect(self) -> Line:
        """A new connection, its greeting taken."""
        line = Line()
        self.service.connect(line)
        [greeting] = line.take()
        assert isinstance(greeting, ev.Greeting)
        return line

    def frame(self, now: float, line: Line | None = None, event: ev.Event | None = None) -> None:
        """One loop iteration at `now` (with one frame from `line`, or with none), and the
        top-up of sessions catching up that follows it."""
        with self.service.batch(now):
            if line is not None and event is not None:
                self.service.handle(line, event, encode(event)[:-1])  # as the loop: with its line
        self.service.top_up()

    def ask(self, line: Line, event: ev.Event, now: float = T0) -> list[ev.Event]:
        """One frame in its own iteration, committed; what came back on `line`."""
        self.frame(now, line, event)
        self.service.settle()
        return line.take()

    def register(self) -> tuple[Line, str, str]:
        """A new logged-in connection: (line, user, token)."""
        line = self.connect()
        [registered] = self.ask(line, ev.Register())
        assert isinstance(registered, ev.Registered)
        return line, registered.user, registered.token

    def log_in(self, user: str, token: str) -> tuple[Line, list[ev.Event]]:
        """A new connection logged in as `user`: the line and what came (04 and the queue)."""
        line = self.connect()
        return line, self.ask(line, ev.Login(user, token))

    def close(self) -> None:
        self.service.settle()
        self.store.close()


def owed_on_disk(db: Path) -> list[str]:
    """The codes of the frames queued for anyone, as committed (read by a second connection)."""
    return [frame[:2] for (frame,) in rows(str(db), "SELECT frame FROM queue")]


NodeFactory = Callable[..., Node]
"""node(shared=False, max_queue=10_000): a Node on the test's one database file."""
