"""End to end: display names (21 -> 22): who is told, when, offline too; refusals; and the
1:1 path that stays without a statement for a pair already known."""

import pytest
from wire import ClientFactory, ServerFactory, WireClient, timestamp

from server.rules_kit import TS, NodeFactory, owed_on_disk
from server.test_blocks import sent
from server.test_groups import create
from server.test_store import statements
from shared import events as ev
from shared.codes import MAX_NAME, ErrorCode


def named(user: WireClient, name: str) -> ev.Name:
    """user sets its name and gets its own 22 as the answer."""
    user.send(ev.SetName(name))
    return user.expect_next(ev.Name(user.user, name))  # type: ignore[return-value]


def test_name_reaches_contacts_of_either_direction(client_factory: ClientFactory) -> None:
    """A 21 answers the sender with its 22 and owes it to whoever messaged them 1:1 or was
    messaged by them; not to strangers."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    stranger = client_factory.registered()
    sent(alice, bob, TS, "hi")
    bob.expect_next(ev.Deliver(alice.user, bob.user, TS, "hi"))
    sent(carol, alice, TS, "hello")
    alice.expect_next(ev.Deliver(carol.user, alice.user, TS, "hello"))
    named(alice, "Alice")
    bob.expect_next(ev.Name(alice.user, "Alice"))
    carol.expect_next(ev.Name(alice.user, "Alice"))
    stranger.assert_silent()


def test_name_the_same_again_tells_no_one(client_factory: ClientFactory) -> None:
    """The same name again (a retransmission) is answered alike and owes nothing; a new
    one is told again."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    sent(alice, bob, TS, "hi")
    bob.expect_next(ev.Deliver)
    named(alice, "Alice")
    bob.expect_next(ev.Name(alice.user, "Alice"))
    named(alice, "Alice")
    bob.assert_silent()
    named(alice, "Alice B.")
    bob.expect_next(ev.Name(alice.user, "Alice B."))


def test_name_brought_by_the_first_message(client_factory: ClientFactory) -> None:
    """A pair's first 1:1 message brings each the other's name (those set), before the 06;
    later messages bring none."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    named(alice, "Alice")
    named(bob, "Bob")
    alice.send(ev.Send(alice.user, bob.user, TS, "first"))
    alice.expect_next(ev.Name(bob.user, "Bob"))
    alice.expect_next(ev.Accepted(bob.user, TS))
    bob.expect_next(ev.Name(alice.user, "Alice"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, TS, "first"))
    sent(bob, alice, TS + 1, "back")
    alice.expect_next(ev.Deliver(bob.user, alice.user, TS + 1, "back"))
    alice.assert_silent()
    bob.assert_silent()


def test_name_reaches_group_members_and_offline_ones(client_factory: ClientFactory) -> None:
    """Co-members of a group are told, an offline one at login (queued, like an 11); a
    group's creation brings each member the names already set."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    carol = client_factory.registered()
    named(bob, "Bob")
    created = create(alice, bob, carol)
    alice.expect_next(ev.Name(bob.user, "Bob"))
    carol.expect_next(created)
    carol.expect_next(ev.Name(bob.user, "Bob"))
    carol.leave()
    named(alice, "Alice")
    bob.expect(ev.Name(alice.user, "Alice"))
    again = client_factory.logged_in(*carol.credentials())
    again.expect_next(ev.Name(alice.user, "Alice"))
    again.assert_silent()


@pytest.mark.parametrize("line", [
    pytest.param(b"21\n", id="empty"),
    pytest.param(b"21" + b"x" * (MAX_NAME + 1) + b"\n", id="too-long"),
    pytest.param(b"21a\x07b\n", id="control-character"),
    pytest.param(b"21Client-000009\n", id="looks-like-an-id"),
])
def test_name_refused_with_13_24(client_factory: ClientFactory, line: bytes) -> None:
    """A bad name is refused with 13/24 and tells no one anything."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    sent(alice, bob, TS, "hi")
    bob.expect_next(ev.Deliver)
    alice.send_raw(line)
    alice.expect_error(ErrorCode.INVALID_NAME)
    bob.assert_silent()


def test_name_kept_across_a_restart(server_factory: ServerFactory,
                                    client_factory: ClientFactory) -> None:
    """A name is stored: after a restart, a new contact's first message still brings it."""
    first = server_factory.start()
    alice = client_factory.registered(first)
    named(alice, "Alice")
    credentials = alice.credentials()
    alice.leave()
    first.stop()
    second = server_factory.start()
    alice = client_factory.logged_in(*credentials, server=second)
    bob = client_factory.registered(second)
    ts = timestamp()
    bob.send(ev.Send(bob.user, alice.user, ts, "hi"))
    bob.expect_next(ev.Name(alice.user, "Alice"))
    bob.expect_next(ev.Accepted(alice.user, ts))


def test_name_no_statement_for_a_known_pair(node: NodeFactory) -> None:
    """Once a pair has met, a 1:1 message between them runs the statements it ran before
    names existed: the key and the copy (and, on its first, one INSERT of the contact)."""
    server = node()
    alice_line, alice, _ = server.register()
    _, bob, _ = server.register()
    with statements(server.store) as first:
        server.ask(alice_line, ev.Send(alice, bob, TS, "first"))
    with statements(server.store) as later:
        server.ask(alice_line, ev.Send(alice, bob, TS + 1, "again"))
    assert sum(1 for sql in first if sql == "INSERT") == 3  # key, copy, contact
    assert later.count("INSERT") == 2  # key, copy
    assert [sql for sql in later if sql not in ("INSERT", "BEGIN", "COMMIT")] == []
    server.close()


def test_name_two_servers_one_database(node: NodeFactory) -> None:
    """Two servers sharing a database: a pair met through one is a contact for the other
    (its name reaches them through it), and its first message there brings no name again."""
    one, two = node(shared=True), node(shared=True)
    alice_one, alice, alice_token = one.register()
    bob_line, bob, _ = one.register()
    assert one.ask(alice_one, ev.SetName("Alice"), TS) == [ev.Name(alice, "Alice")]
    one.ask(alice_one, ev.Send(alice, bob, TS, "hi"), TS)
    assert bob_line.take() == [ev.Name(alice, "Alice"), ev.Deliver(alice, bob, TS, "hi")]
    alice_two, _ = two.log_in(alice, alice_token)
    assert two.ask(alice_two, ev.SetName("Alice L."), TS) == [ev.Name(alice, "Alice L.")]
    assert two.ask(alice_two, ev.Send(alice, bob, TS + 1, "again"), TS) == [
        ev.Accepted(bob, TS + 1)]
    assert owed_on_disk(one).count("22") == 2  # hi's and the change's, nothing more
