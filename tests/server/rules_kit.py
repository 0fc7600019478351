"""The chat rules in process: real Services, Sessions and Stores, no sockets, explicit times.

A Node is one server process as the loop would drive it: each frame() is one
loop iteration (a batch) followed by the top-up of sessions catching up. A
Line is a connection that keeps the frames written to it, decoded. Several
Nodes on one SQLite file are several server processes on one database; what
was committed is read through the operator's queries (storage/admin.py) on a
connection of their own.

Used through the `node` fixture (tests/server/conftest.py).
"""

from collections.abc import Callable
from pathlib import Path

from interzap_server.service import Service
from interzap_server.sessions import Sessions
from interzap_server.storage import Admin, Store, open_admin, open_store
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

    def __init__(self, db: Path | str, shared: bool = False, max_queue: int = 10_000,
                 registration: str = "open") -> None:
        """`db`: an SQLite file, or a PostgreSQL URL (then `shared` nodes hear each other)."""
        self.db = db
        self.store: Store = open_store(str(db), shared=shared)
        self.sessions = Sessions(self.store)
        self.service = Service(self.store, self.sessions, max_queue=max_queue,
                               registration=registration)
        # the operator's queries, on a connection of their own: they see what is committed
        # (opened now, while no transaction is: it makes its tables first)
        self.admin: Admin = open_admin(str(db))

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

    def tick(self, now: float = T0) -> None:
        """The loop's tick, once a second: one iteration that reads the operator's changes
        (and writes the last logins), committed."""
        with self.service.batch(now):
            self.service.watch_accounts()
        self.service.settle()

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
        self.admin.close()


def owed_on_disk(node: Node) -> list[str]:
    """The codes of the frames queued for anyone, as committed: the admin's queries."""
    return [code for user in node.admin.users() for _, code in node.admin.queue(user.id)]


NodeFactory = Callable[..., Node]
"""node(shared=False, max_queue=10_000, registration="open"): a Node on the test's one
database file."""
