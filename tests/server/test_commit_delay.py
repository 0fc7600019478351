"""When the service commits: at once for frames someone waits on, within COMMIT_DELAY for the rest.

In process, with explicit times (rules_kit.py): the real Service, Sessions and
Store on a SQLite file in a temporary folder; each connection is a Line that
keeps the frames written to it. What is on disk is read through the operator's
queries (rules_kit.owed_on_disk: storage/admin.py on a connection of its own),
which see committed rows only: the store's own API would also see what its open
transaction wrote.
"""

import pytest

from interzap_server.service import COMMIT_DELAY
from server.rules_kit import T0, TS, Line, Node, NodeFactory, owed_on_disk
from shared import events as ev


class Chat:
    """A node and two logged-in users, alice and bob, with a message from alice to bob."""

    def __init__(self, node: Node) -> None:
        self.node, self.service = node, node.service
        self.alice, alice, alice_token = node.register()
        self.bob, bob, bob_token = node.register()
        self.users, self.tokens = [alice, bob], [alice_token, bob_token]
        self.frame(T0, self.alice, ev.Send(alice, bob, TS, "hi"))
        assert self.alice.take() == [ev.Accepted(bob, TS)]
        assert self.bob.take() == [ev.Deliver(alice, bob, TS, "hi")]

    def frame(self, now: float, line: Line | None = None, event: ev.Event | None = None) -> None:
        self.node.frame(now, line, event)

    def acknowledge(self, now: float) -> None:
        self.frame(now, self.bob, ev.Receipt(self.users[0], self.users[1], TS))

    def owed_on_disk(self) -> list[str]:
        return owed_on_disk(self.node)


@pytest.fixture
def chat(node: NodeFactory) -> Chat:
    return Chat(node())


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
