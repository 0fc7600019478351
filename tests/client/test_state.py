"""State: the pure rules for conversations, ticks, unread counts and keys."""

from interzap_client.conversations import Tick
from interzap_client.history import replay, snapshot
from interzap_client.state import State

ME, BOB, CAROL = "Client-000001", "Client-000002", "Client-000003"
GROUP = "Group-0000001"


def own(state: State, dst: str, ts: int, text: str = "hi") -> None:
    assert state.msg(ME, dst, ts, text, int(Tick.PENDING))


def test_state_ticks_only_move_up() -> None:
    """A repeated or late 16/07 never lowers a message's tick."""
    state = State(ME)
    own(state, BOB, 100)
    assert state.tick(BOB, 100, Tick.DELIVERED)
    assert not state.tick(BOB, 100, Tick.ACCEPTED)
    assert not state.tick(BOB, 100, Tick.DELIVERED)
    assert state.messages[(ME, BOB, 100)].tick is Tick.DELIVERED


def test_state_refusal_only_hits_pending_messages() -> None:
    """A 13 cannot fail a message the server already accepted."""
    state = State(ME)
    own(state, BOB, 100)
    own(state, BOB, 101)
    state.tick(BOB, 100, Tick.ACCEPTED)
    assert not state.tick(BOB, 100, Tick.FAILED)
    assert state.tick(BOB, 101, Tick.FAILED)
    assert not state.tick(BOB, 101, Tick.ACCEPTED)


def test_state_read_notice_covers_everything_up_to_ts() -> None:
    """09 peer ts marks every own message to peer with a ts up to ts as read."""
    state = State(ME)
    for ts in (100, 101, 102):
        own(state, BOB, ts)
    assert state.read(BOB, 101)
    ticks = [m.tick for m in state.conversation(BOB).messages]
    assert ticks == [Tick.READ, Tick.READ, Tick.PENDING]
    assert not state.read(BOB, 101)


def test_state_unread_counts_received_after_seen() -> None:
    """Unread: received messages newer than the last 08 we sent; own ones never count."""
    state = State(ME)
    state.msg(BOB, ME, 100, "a")
    state.msg(BOB, ME, 101, "b")
    own(state, BOB, 102)
    assert state.conversation(BOB).unread == 2
    state.seen(BOB, 100)
    assert state.conversation(BOB).unread == 1


def test_state_late_group_message_is_unread_until_the_next_read() -> None:
    """A message older than the read mark but arriving after it counts as unread."""
    state = State(ME)
    state.msg(BOB, GROUP, 200, "newer")
    state.seen(GROUP, 200)
    state.msg(CAROL, GROUP, 150, "late")
    assert state.conversation(GROUP).unread == 1
    assert state.seen(GROUP, 200)  # the same mark again now covers something new
    assert state.conversation(GROUP).unread == 0


def test_state_late_messages_survive_a_snapshot() -> None:
    """Compaction keeps a late message unread: replaying the snapshot gives the same count."""
    state = State(ME)
    state.msg(BOB, GROUP, 200, "newer")
    state.seen(GROUP, 200)
    state.msg(CAROL, GROUP, 150, "late")
    again = State(ME)
    for record in snapshot(state):
        replay(again, record)
    assert again.conversation(GROUP).unread == 1
    assert again == state


def test_state_same_key_stored_once() -> None:
    """A message received twice (same src, dst, ts) is stored once."""
    state = State(ME)
    assert state.msg(BOB, ME, 100, "a")
    assert not state.msg(BOB, ME, 100, "a")
    assert len(state.conversation(BOB).messages) == 1


def test_state_next_ts_never_reuses_a_key() -> None:
    """Two sends within one second to one peer get consecutive timestamps."""
    state = State(ME)
    ts = state.next_ts(BOB, 500)
    own(state, BOB, ts)
    assert state.next_ts(BOB, 500) == 501
    assert state.next_ts(CAROL, 500) == 500
    assert state.next_ts(BOB, 900) == 900


def test_state_group_messages_belong_to_the_group() -> None:
    """A 06 to a group lands in the group's conversation, with its author kept."""
    state = State(ME)
    state.group(GROUP, 50, [CAROL, ME, BOB])
    state.msg(BOB, GROUP, 100, "hello all")
    conv = state.conversation(GROUP)
    assert conv.is_group and conv.members == (CAROL, ME, BOB)
    assert conv.messages[0].src == BOB
    assert BOB in state.contacts and CAROL in state.contacts


def test_state_group_answer_clears_pending_create() -> None:
    """The 11 whose creator is us and whose ts is our 10's takes it out of the outbox."""
    state = State(ME)
    state.create(70, [BOB])
    assert list(state.outbox())
    assert state.group(GROUP, 70, [ME, BOB])
    assert not list(state.outbox())


def test_state_conversations_most_recent_first() -> None:
    """The list is sorted by the time of the last message, newest first."""
    state = State(ME)
    state.msg(BOB, ME, 100, "old")
    state.msg(CAROL, ME, 200, "new")
    assert [c.peer for c in state.sorted_conversations()] == [CAROL, BOB]


def test_state_alias_resolves_and_moves() -> None:
    """An alias names one id; giving it to another id moves it."""
    state = State(ME)
    state.alias(BOB, "bob")
    assert state.resolve("bob") == BOB
    state.alias(CAROL, "bob")
    assert state.resolve("bob") == CAROL
    assert state.label(BOB) == BOB
    assert state.resolve("nobody") is None
    assert state.resolve(GROUP) == GROUP
