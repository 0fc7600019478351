"""End to end: durability: `kill -9` of the server and a restart on the same database.

Theory of operation for the mid-run test: the sender keeps a window of
messages in flight, and the server is killed when enough of them have been
answered with 16, so the kill lands while it is reading, committing and
writing. Every 16 the sender got (including those still in its socket buffer
when the server died) is a promise: after the restart the recipient must get
each of those messages, in order, once. Messages committed whose 16 never
left may be delivered too, but only in their place in the order.
"""

from wire import ClientFactory, ServerFactory, WireClient, timestamp

from shared import events as ev


def deliver(author: WireClient, reader: WireClient, ts: int, text: str = "hi") -> None:
    """author -> reader: 05, 16, 06 (no 12)."""
    author.send(ev.Send(author.user, reader.user, ts, text))
    author.expect_next(ev.Accepted(reader.user, ts))
    reader.expect_next(ev.Deliver(author.user, reader.user, ts, text))


def test_kill_mid_run_loses_nothing(server_factory: ServerFactory,
                                    client_factory: ClientFactory) -> None:
    """After kill -9 mid-run, every message that got a 16 reaches its recipient in order, once."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)  # online, but it never acknowledges
    total, window, kill_after = 600, 60, 150
    base = timestamp() - total  # distinct keys, all in the past
    sent: list[int] = []
    accepted: list[int] = []

    def send_next() -> None:
        ts = base + len(sent)
        alice.send(ev.Send(alice.user, bob.user, ts, f"message {len(sent)}"))
        sent.append(ts)

    for _ in range(window):
        send_next()
    while len(accepted) < kill_after:
        event = alice.next_event()
        assert isinstance(event, ev.Accepted), event
        accepted.append(event.ts)
        send_next()
    server.kill()
    for event in alice.drain_until_closed():
        assert isinstance(event, ev.Accepted), event
        accepted.append(event.ts)
    assert accepted == sent[:len(accepted)], "16s came out of order"

    restarted = server_factory.start()
    again = client_factory.logged_in(*bob.credentials(), restarted)
    received: list[int] = []
    while len(received) < len(accepted):
        event = again.next_event()
        assert isinstance(event, ev.Deliver), event
        assert event.text == f"message {event.ts - base}"
        received.append(event.ts)
    received += [event.ts for event in again.sync() if isinstance(event, ev.Deliver)]
    assert received == sorted(set(received)), "redelivered out of order or twice"
    assert set(accepted) <= set(received), f"lost: {sorted(set(accepted) - set(received))}"
    assert set(received) <= set(sent)


def test_kill_keeps_queue(server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """A message answered with 16 to an offline recipient survives kill -9 at once."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    bob.leave()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "durable"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    server.kill()
    restarted = server_factory.start()
    again = client_factory.logged_in(*bob.credentials(), restarted)
    again.expect_next(ev.Deliver(alice.user, bob.user, ts, "durable"))


def test_kill_keeps_owed_delivered(server_factory: ServerFactory,
                                   client_factory: ClientFactory) -> None:
    """A 07 owed to an offline author is sent after kill -9 and a restart."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    ts = timestamp()
    deliver(alice, bob, ts)
    alice.leave()
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    bob.assert_silent()  # the 12 was handled, and its iteration committed before the 15 left
    server.kill()
    restarted = server_factory.start()
    again = client_factory.logged_in(*alice.credentials(), restarted)
    again.expect_next(ev.Delivered(bob.user, ts))


def test_kill_keeps_owed_read_notice(server_factory: ServerFactory,
                                     client_factory: ClientFactory) -> None:
    """A 09 owed to an offline author is sent after kill -9 and a restart."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    ts = timestamp()
    deliver(alice, bob, ts)
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    alice.leave()
    bob.send(ev.Read(alice.user, ts))
    bob.assert_silent()
    server.kill()
    restarted = server_factory.start()
    again = client_factory.logged_in(*alice.credentials(), restarted)
    again.expect(ev.ReadNotice(bob.user, ts))  # after a harmless repeat of the 07, maybe


def test_kill_keeps_accepted_keys(server_factory: ServerFactory,
                                  client_factory: ClientFactory) -> None:
    """After kill -9, a retransmission of an accepted key gets 16 and is not delivered again."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    ts = timestamp()
    message = ev.Send(alice.user, bob.user, ts, "exactly once")
    deliver(alice, bob, ts, "exactly once")
    bob.send(ev.Receipt(alice.user, bob.user, ts))
    alice.expect_next(ev.Delivered(bob.user, ts))
    server.kill()
    restarted = server_factory.start()
    alice = client_factory.logged_in(*alice.credentials(), restarted)
    bob = client_factory.logged_in(*bob.credentials(), restarted)
    alice.send(message)
    alice.expect(ev.Accepted(bob.user, ts))  # the 07 may come again first: a harmless repeat
    alice.send(ev.Send(alice.user, bob.user, ts + 1, "barrier"))
    bob.expect_next(ev.Deliver(alice.user, bob.user, ts + 1, "barrier"))


def test_kill_keeps_groups(server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """A group whose 11 was received survives kill -9 with its members."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    alice.send(ev.CreateGroup(alice.user, timestamp(), (bob.user,)))
    created = alice.expect_next(ev.GroupCreated)
    assert isinstance(created, ev.GroupCreated)
    bob.expect_next(created)
    server.kill()
    restarted = server_factory.start()
    alice = client_factory.logged_in(*alice.credentials(), restarted)
    bob = client_factory.logged_in(*bob.credentials(), restarted)
    ts = timestamp()
    alice.send(ev.Send(alice.user, created.group, ts, "still here"))
    alice.expect(ev.Accepted(created.group, ts))  # after a harmless repeat of the 11, maybe
    bob.expect(ev.Deliver(alice.user, created.group, ts, "still here"))


def test_clean_restart_keeps_queue(server_factory: ServerFactory,
                                   client_factory: ClientFactory) -> None:
    """After SIGTERM and a restart, queued messages are delivered at login."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    bob.leave()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "see you later"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    assert server.terminate() == 0
    restarted = server_factory.start(port=server.port)
    again = client_factory.logged_in(*bob.credentials(), restarted)
    again.expect_next(ev.Deliver(alice.user, bob.user, ts, "see you later"))
