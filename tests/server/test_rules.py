"""The chat rules and their policy table, in process (rules_kit.py): no sockets, no server.

One Node is one server process; two Nodes on one file are two processes on one
database, with the store's caches on (one writer) or off (shared=True).
"""

import pytest

from interzap_server.rules import RULES, Policy
from interzap_server.service import COMMIT_DELAY
from server.rules_kit import T0, TS, NodeFactory, owed_on_disk
from shared import events as ev
from shared.codec import LAYOUTS, Side
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError


def codes(frames: list[ev.Event]) -> list[int]:
    """The error codes among `frames`."""
    return [frame.code for frame in frames if isinstance(frame, ev.Error)]


def test_rules_table_has_a_rule_for_every_client_frame() -> None:
    """Every frame a client may send has a rule, and so has a line that failed to decode."""
    sent_by_clients = {layout.event for layout in LAYOUTS if Side.CLIENT in layout.sent_by}
    assert set(RULES) == sent_by_clients | {RemoteProtocolError}


def test_rules_table_rate_free_frames_are_the_protocols() -> None:
    """The table's rate-free frames are the ones the rate limit lets through (12, 15)."""
    assert {frame for frame, rule in RULES.items() if rule.policy.rate_free} == set(ev.RATE_FREE)


def test_rules_policy_refuses_a_stored_ephemeral_frame() -> None:
    """An ephemeral frame is never stored: a policy saying both is refused."""
    with pytest.raises(ValueError, match="ephemeral"):
        Policy(writes=True, ephemeral=True)


@pytest.mark.parametrize("event", [
    pytest.param(ev.Register(), id="01"),
    pytest.param(ev.Login("Client-000001", "0" * 32), id="03"),
])
def test_rules_login_frames_refused_when_logged_in(node: NodeFactory, event: ev.Event) -> None:
    """A 01 or 03 on a connection already logged in gets 13/11 and changes nothing."""
    server = node()
    line, _user, _token = server.register()
    assert codes(server.ask(line, event)) == [ErrorCode.ALREADY_LOGGED_IN]
    assert server.service.is_logged_in(line)


def test_rules_frames_before_login_refused_but_ping(node: NodeFactory) -> None:
    """Before login a 05 gets 13/03; a 14 gets its 15."""
    server = node()
    line = server.connect()
    refused = server.ask(line, ev.Send("Client-000001", "Client-000002", TS, "hi"))
    assert codes(refused) == [ErrorCode.NOT_LOGGED_IN]
    assert server.ask(line, ev.Ping()) == [ev.Pong()]


def test_rules_send_to_unknown_user_refused(node: NodeFactory) -> None:
    """A 05 to a user that does not exist gets 13/05, and nothing is queued."""
    server = node()
    line, user, _token = server.register()
    assert codes(server.ask(line, ev.Send(user, "Client-999999", TS, "hi"))) == [
        ErrorCode.UNKNOWN_PEER]
    assert owed_on_disk(server) == []


def test_rules_send_to_group_refused_to_non_member(node: NodeFactory) -> None:
    """A 05 to a group the sender is not in gets 13/07, and nothing is queued."""
    server = node()
    alice, alice_id, _ = server.register()
    _bob, bob_id, _ = server.register()
    carol, carol_id, _ = server.register()
    [created] = server.ask(alice, ev.CreateGroup(alice_id, TS, (bob_id,)))
    assert isinstance(created, ev.GroupCreated)
    outsider = server.ask(carol, ev.Send(carol_id, created.group, TS, "hi"))
    assert codes(outsider) == [ErrorCode.NOT_A_MEMBER]
    assert owed_on_disk(server) == ["11", "11"]


def test_rules_retransmitted_send_accepted_again_delivered_once(node: NodeFactory) -> None:
    """The same 05 again gets 16 again, and the recipient no second 06."""
    server = node()
    alice, alice_id, _ = server.register()
    bob, bob_id, _ = server.register()
    send = ev.Send(alice_id, bob_id, TS, "hi")
    assert server.ask(alice, send) == [ev.Accepted(bob_id, TS)]
    assert server.ask(alice, send) == [ev.Accepted(bob_id, TS)]
    assert bob.take() == [ev.Deliver(alice_id, bob_id, TS, "hi")]


def test_rules_receipt_for_nothing_is_silent_and_charged(node: NodeFactory) -> None:
    """A 12 that acknowledges nothing is not answered, and costs a token."""
    server = node()
    bob, bob_id, _ = server.register()
    assert server.ask(bob, ev.Receipt("Client-999999", bob_id, TS)) == []
    assert bob.strikes == 1


def test_rules_pong_neither_commits_nor_defers(node: NodeFactory) -> None:
    """A 15 (ephemeral) leaves a waiting 12 waiting, and alone opens no transaction."""
    server = node()
    alice, alice_id, _ = server.register()
    bob, bob_id, _ = server.register()
    server.ask(alice, ev.Send(alice_id, bob_id, TS, "hi"))
    server.frame(T0 + 1, bob, ev.Pong())
    assert server.service.commit_due() is None
    server.frame(T0 + 2, bob, ev.Receipt(alice_id, bob_id, TS))
    server.frame(T0 + 2, bob, ev.Pong())
    assert server.service.commit_due() == T0 + 2 + COMMIT_DELAY
    assert owed_on_disk(server) == ["06"]
    server.frame(T0 + 2 + COMMIT_DELAY)
    assert owed_on_disk(server) == ["07"]


def test_rules_failed_commit_answers_writers_99_and_undoes(
        node: NodeFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed commit answers each writing frame 13/99 and undoes a 01's login."""
    server = node()
    alice, alice_id, _ = server.register()
    newcomer = server.connect()
    db = server.store._runner.db
    monkeypatch.setattr(db, "commit", lambda: db.execute_sql("SELECT no_such_column"))
    with server.service.batch(T0 + 1):
        server.service.handle(alice, ev.Send(alice_id, "Client-999999", TS, "hi"))  # refused
        server.service.handle(newcomer, ev.Register())
        server.service.handle(alice, ev.Ping())
    monkeypatch.undo()
    assert codes(alice.take()) == [ErrorCode.UNKNOWN_PEER]
    assert codes(newcomer.take()) == [ErrorCode.INTERNAL]
    assert not server.service.is_logged_in(newcomer)
    [registered] = server.ask(newcomer, ev.Register())
    assert isinstance(registered, ev.Registered)


@pytest.mark.parametrize("shared", [pytest.param(False, id="caches"),
                                    pytest.param(True, id="no-caches")])
def test_rules_two_processes_one_database(node: NodeFactory, shared: bool) -> None:
    """Two servers on one file pass a 06, its 12 and the 07 through the queue."""
    one, two = node(shared), node(shared)
    alice, alice_id, alice_token = one.register()
    bob, bob_id, bob_token = two.register()
    assert one.ask(alice, ev.Send(alice_id, bob_id, TS, "hi")) == [ev.Accepted(bob_id, TS)]
    assert bob.take() == []  # owed on disk; nothing tells the other process (wakeups.py)
    bob, queued = two.log_in(bob_id, bob_token)
    assert queued == [ev.LoggedIn(bob_id), ev.Deliver(alice_id, bob_id, TS, "hi")]
    assert two.ask(bob, ev.Receipt(alice_id, bob_id, TS)) == []
    alice, queued = one.log_in(alice_id, alice_token)
    assert queued == [ev.LoggedIn(alice_id), ev.Delivered(bob_id, TS)]


def test_rules_two_processes_count_group_receipts_without_caches(node: NodeFactory) -> None:
    """Without caches, a group message's 12s taken by two processes still end in one 07."""
    # with them on, each process counts the copies left alone, and no 07 comes
    one, two = node(shared=True), node(shared=True)
    alice, alice_id, _ = one.register()
    bob, bob_id, _ = one.register()
    carol, carol_id, carol_token = one.register()
    [created] = one.ask(alice, ev.CreateGroup(alice_id, TS, (bob_id, carol_id)))
    assert isinstance(created, ev.GroupCreated)
    one.ask(alice, ev.Send(alice_id, created.group, TS, "hi"))
    assert bob.take()[-1] == ev.Deliver(alice_id, created.group, TS, "hi")
    carol, _queued = two.log_in(carol_id, carol_token)
    assert two.ask(carol, ev.Receipt(alice_id, created.group, TS)) == []
    assert one.ask(bob, ev.Receipt(alice_id, created.group, TS)) == []
    assert alice.take() == [ev.Delivered(created.group, TS)]

