"""End to end: the per-user queue: offline delivery at login, order, and redelivery until 12."""

from wire import ClientFactory, ServerFactory, timestamp

from shared import events as ev
from shared.codec import encode


def test_queue_logged_in_comes_first(client_factory: ClientFactory) -> None:
    """At login the 04 comes before anything queued."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "while you were away"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    again = client_factory.connect()
    again.send(ev.Login(*bob.credentials()))
    assert again.next_event() == ev.LoggedIn(bob.user)
    assert again.next_event() == ev.Deliver(alice.user, bob.user, ts, "while you were away")


def test_queue_delivered_at_login_in_order(client_factory: ClientFactory) -> None:
    """Messages to an offline user are accepted, then delivered at its login, oldest first."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    base = timestamp()
    for i in range(5):
        alice.send(ev.Send(alice.user, bob.user, base + i, f"message {i}"))
        alice.expect_next(ev.Accepted(bob.user, base + i))
    again = client_factory.logged_in(*bob.credentials())
    for i in range(5):
        again.expect_next(ev.Deliver(alice.user, bob.user, base + i, f"message {i}"))
    again.assert_silent()


def test_queue_keeps_server_order_across_senders(client_factory: ClientFactory) -> None:
    """One queue per user, in the order the server accepted the messages, whoever sent them."""
    alice = client_factory.registered()
    carol = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    ts = timestamp()
    order = [(alice, "a1"), (carol, "c1"), (alice, "a2"), (carol, "c2")]
    for sender, text in order:
        sender.send(ev.Send(sender.user, bob.user, ts, text))
        sender.expect_next(ev.Accepted(bob.user, ts))
        ts += 1
    again = client_factory.logged_in(*bob.credentials())
    ts -= len(order)
    for sender, text in order:
        again.expect_next(ev.Deliver(sender.user, bob.user, ts, text))
        ts += 1


def test_queue_redelivered_after_disconnect(client_factory: ClientFactory) -> None:
    """A recipient that disconnects before its 12 gets the message again at its next login."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "did you get this?"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "did you get this?"))
    bob.leave()
    again = client_factory.logged_in(*bob.credentials())
    again.expect_next(ev.Deliver(alice.user, bob.user, ts, "did you get this?"))
    again.assert_silent()


def test_queue_redelivered_until_acknowledged(client_factory: ClientFactory) -> None:
    """An entry stays queued through several logins until its 12 arrives."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "persistent"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    for _ in range(2):
        again = client_factory.logged_in(*bob.credentials())
        again.expect_next(ev.Deliver(alice.user, bob.user, ts, "persistent"))
        again.leave()
    last = client_factory.logged_in(*bob.credentials())
    last.expect_next(ev.Deliver(alice.user, bob.user, ts, "persistent"))
    last.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))


def test_queue_acknowledged_not_redelivered(client_factory: ClientFactory) -> None:
    """A message acknowledged with 12 is not sent again at the next login."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "got it"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts, "got it"))
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect(ev.Delivered(bob.user, ts))
    bob.leave()
    again = client_factory.logged_in(*bob.credentials())
    again.assert_silent()


def test_queue_live_message_waits_behind_backlog(client_factory: ClientFactory) -> None:
    """A message sent while the queue is being delivered at login comes after the queue."""
    alice = client_factory.registered()
    bob = client_factory.registered()
    bob.leave()
    base = timestamp()
    count = 200
    alice.send(*(ev.Send(alice.user, bob.user, base + i, f"old {i}") for i in range(count)))
    for i in range(count):
        alice.expect_next(ev.Accepted(bob.user, base + i))
    again = client_factory.connect()
    again.send(ev.Login(*bob.credentials()))
    alice.send(ev.Send(alice.user, bob.user, base + count, "live"))
    again.expect_next(ev.LoggedIn(bob.user))
    for i in range(count):
        again.expect_next(ev.Deliver(alice.user, bob.user, base + i, f"old {i}"))
    again.expect_next(ev.Deliver(alice.user, bob.user, base + count, "live"))


def test_queue_long_backlog_not_cut_off(server_factory: ServerFactory,
                                        client_factory: ClientFactory) -> None:
    """A backlog larger than the output cap is sent at the reader's pace, not cut off."""
    cap = 64 * 1024  # the default is 1 MiB; a small cap keeps the test quick
    server = server_factory.start(extra_args=["--output-cap", str(cap)])
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    bob.leave()
    base = timestamp() - 1000
    text = "x" * 200
    count = 2 * cap // len(encode(ev.Send(alice.user, bob.user, base, text))) + 1
    alice.send(*(ev.Send(alice.user, bob.user, base + i, text) for i in range(count)))
    for i in range(count):
        alice.expect_next(ev.Accepted(bob.user, base + i))
    again = client_factory.logged_in(*bob.credentials(), server)
    for i in range(count):
        again.expect_next(ev.Deliver(alice.user, bob.user, base + i, text))
    again.assert_silent()
