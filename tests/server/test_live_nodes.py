"""The rules of 25-30 in process (rules_kit): explicit times for the typing throttle and
last seen, and two server processes on one database, where nothing a node keeps in
memory may be the truth of a 26 or a 30."""

from server.rules_kit import T0, TS, Line, Node, NodeFactory
from shared import events as ev


def group_on(node: Node, creator: Line, me: str, *others: str) -> str:
    [created] = node.ask(creator, ev.CreateGroup(me, TS, others))
    assert isinstance(created, ev.GroupCreated)
    return created.group


def test_typing_throttled_per_sender_and_chat_by_the_servers_clock(node: NodeFactory) -> None:
    """A second 27 one second later is dropped, two seconds later relayed; another chat
    has its own allowance; a 27 is never queued for someone offline."""
    n = node()
    a, alice, _ = n.register()
    b, bob, _ = n.register()
    c, carol, carol_token = n.register()
    group = group_on(n, a, alice, bob, carol)
    b.take(), c.take()
    for offset, chat in ((0, bob), (1, bob), (1, group), (2, bob)):
        n.frame(T0 + offset, a, ev.Typing(alice, chat))
    assert b.take() == [ev.Typing(alice, bob), ev.Typing(alice, group), ev.Typing(alice, bob)]
    assert c.take() == [ev.Typing(alice, group)]
    assert a.take() == []
    n.service.disconnect(c)
    n.frame(T0 + 10, a, ev.Typing(alice, group))
    n.service.settle()
    assert b.take() == [ev.Typing(alice, group)]
    _, queued = n.log_in(carol, carol_token)
    assert not [frame for frame in queued if isinstance(frame, ev.Typing)]


def test_last_seen_is_the_servers_time_after_the_disconnect(node: NodeFactory) -> None:
    """bob's connection ends after the batch of T0+50; the next batch (T0+51, at once in
    the loop) records it: alice, who asked, hears 30 bob T0+51, and a 29 later says the
    same."""
    n = node()
    a, alice, _ = n.register()
    b, bob, _ = n.register()
    group_on(n, a, alice, bob)
    assert n.ask(a, ev.PresenceAsk(bob)) == [ev.Presence(bob, ev.ONLINE)]
    n.frame(T0 + 50)
    n.service.disconnect(b)
    n.frame(T0 + 51)
    n.service.settle()
    assert a.take() == [ev.Presence(bob, int(T0) + 51)]
    assert n.ask(a, ev.PresenceAsk(bob), T0 + 60) == [ev.Presence(bob, int(T0) + 51)]


def test_two_nodes_answer_info_and_presence_from_the_database(node: NodeFactory) -> None:
    """alice on one node, bob and carol on another: bob's 12 and 08 made on his node show
    in the 26 alice's node answers, and bob, online there, is online for alice."""
    one, two = node(shared=True), node(shared=True)
    a, alice, _ = one.register()
    b, bob, bob_token = two.register()
    _, carol, _ = two.register()
    group = group_on(one, a, alice, bob, carol)
    one.ask(a, ev.Send(alice, group, TS, "hi"))
    b, _ = two.log_in(bob, bob_token)  # the 06 came through the database
    two.ask(b, ev.Receipt(alice, group, TS), T0 + 5)
    two.ask(b, ev.Read(group, TS), T0 + 9)
    [answer] = one.ask(a, ev.Info(group, TS), T0 + 10)
    assert answer == ev.InfoAnswer(group, TS, ((bob, int(T0) + 5, int(T0) + 9), (carol, 0, 0)))
    assert one.ask(a, ev.PresenceAsk(bob), T0 + 11) == [ev.Presence(bob, ev.ONLINE)]
