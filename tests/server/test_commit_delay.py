"""When the service commits: at once for frames someone waits on, within COMMIT_DELAY for the rest.

In process, with explicit times: the real Service, Sessions and Store on a
SQLite file in a temporary folder; each connection is a Line that keeps the
frames written to it. What is on disk is read through a second, independent
connection (backends.rows), which sees committed rows only: the store's own API
would also see what its open transaction wrote.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import rows

from interzap_server.service import COMMIT_DELAY, Service
from interzap_server.sessions import Sessions
from interzap_server.storage import Store, open_store
from shared import events as ev
from shared.codec import Side, decode

TS = 1_700_000_000
T0 = 1000.0  # loop time of the first batch


class Line:
    """A connection as the service sees it, keeping what is written to it."""

    def __init__(self) -> None:
        self.frames: list[ev.Event] = []
        self.backlog = 0

    def write(self, data: bytes, entry: int | None = None) -> None:
        self.frames += [decode(line, Side.SERVER) for line in data.splitlines()]

    def close_when_flushed(self) -> None:
        pass

    def strike(self) -> None:
        pass

    def take(self) -> list[ev.Event]:
        frames, self.frames = self.frames, []
        return frames


class Chat:
    """A service and two logged-in users, alice and bob, with a message from alice to bob."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.store: Store = open_store(str(db))
        self.service = Service(self.store, Sessions(self.store))
        self.alice, self.bob = Line(), Line()
        self.users: list[str] = []
        self.tokens: list[str] = []
        for line in (self.alice, self.bob):
            self.register(line)
        self.frame(T0, self.alice, ev.Send(self.users[0], self.users[1], TS, "hi"))
        assert self.alice.take() == [ev.Accepted(self.users[1], TS)]
        assert self.bob.take() == [ev.Deliver(self.users[0], self.users[1], TS, "hi")]

    def register(self, line: Line) -> None:
        self.service.connect(line)
        self.frame(T0, line, ev.Register())
        _greeting, registered = line.take()
        assert isinstance(registered, ev.Registered)
        self.users.append(registered.user)
        self.tokens.append(registered.token)

    def frame(self, now: float, line: Line | None = None, event: ev.Event | None = None) -> None:
        """One loop iteration at `now` (with one frame from `line`, or with none), and the
        top-up of sessions catching up that follows it."""
        with self.service.batch(now):
            if line is not None and event is not None:
                self.service.handle(line, event)
        self.service.top_up()

    def acknowledge(self, now: float) -> None:
        self.frame(now, self.bob, ev.Receipt(self.users[0], self.users[1], TS))

    def owed_on_disk(self) -> list[str]:
        """The codes of the frames queued for anyone, as committed."""
        return [frame[:2] for (frame,) in rows(str(self.db), "SELECT frame FROM pending")]


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Chat]:
    chat = Chat(tmp_path / "interzap.db")
    try:
        yield chat
    finally:
        chat.service.settle()
        chat.store.close()


def test_commit_delay_holds_a_receipt_until_the_delay_is_over(chat: Chat) -> None:
    """A 12 alone waits up to COMMIT_DELAY for company; its 07 leaves with the commit."""
    chat.acknowledge(T0 + 1)
    assert chat.service.commit_due() == T0 + 1 + COMMIT_DELAY
    assert chat.owed_on_disk() == ["06"]  # not committed yet
    chat.frame(T0 + 1 + COMMIT_DELAY / 2)
    assert chat.alice.take() == []
    chat.frame(T0 + 1 + COMMIT_DELAY)
    assert chat.service.commit_due() is None
    assert chat.owed_on_disk() == ["07"]
    assert chat.alice.take() == [ev.Delivered(chat.users[1], TS)]


def test_commit_delay_ends_with_a_frame_that_is_answered(chat: Chat) -> None:
    """A 14 commits the waiting 12 at once: its 15 vouches for everything before it."""
    chat.acknowledge(T0 + 1)
    chat.frame(T0 + 1.001, chat.bob, ev.Ping())
    assert chat.service.commit_due() is None
    assert chat.owed_on_disk() == ["07"]
    assert chat.alice.take() == [ev.Delivered(chat.users[1], TS)]
    assert chat.bob.take() == [ev.Pong()]


def test_commit_delay_settle_commits_what_waits(chat: Chat) -> None:
    """Shutting down commits a waiting 12: nothing is rolled back by a clean stop."""
    chat.acknowledge(T0 + 1)
    chat.service.settle()
    assert chat.owed_on_disk() == ["07"]
    assert chat.alice.take() == [ev.Delivered(chat.users[1], TS)]


def test_commit_delay_not_for_an_idle_iteration(chat: Chat) -> None:
    """An iteration with nothing to store leaves no transaction open (and no wake-up owed)."""
    chat.frame(T0 + 1)
    assert chat.service.commit_due() is None


def test_commit_delay_ends_before_a_queue_is_read(chat: Chat) -> None:
    """A session catching up reads its queue as committed: a waiting 12 is committed first,
    so that the 07 it owes is on disk before it is written to anyone."""
    again = Line()
    chat.service.connect(again)
    with chat.service.batch(T0 + 1):  # alice logs in again; her queue is not read yet
        chat.service.handle(again, ev.Login(chat.users[0], chat.tokens[0]))
    assert again.take()[-1] == ev.LoggedIn(chat.users[0])
    chat.acknowledge(T0 + 1.001)  # then the top-up reads it
    assert again.take() == [ev.Delivered(chat.users[1], TS)]
    assert chat.owed_on_disk() == ["07"]
