"""kill -9 of the server after 31s were accepted, on SQLite and on PostgreSQL: the keys and
the deletion's rewriting of the queue are on disk, so retransmissions are answered once and
the offline recipient gets everything once."""

from dataclasses import astuple

from wire import ClientFactory, ServerFactory, timestamp

from shared import events as ev
from shared.codes import TOMBSTONE, ActKind

THUMBS = "\U0001f44d"


def test_actions_server_kill_keeps_the_key_and_the_tombstone(
        server_factory: ServerFactory, client_factory: ClientFactory) -> None:
    """A deletion and a reaction accepted before a kill -9: after the restart the same 31s
    again (an outbox that missed its 16s) are answered 16 and not queued twice; the offline
    recipient gets the tombstone, the reaction and the deletion, once each."""
    server = server_factory.start()
    alice = client_factory.registered(server)
    bob = client_factory.registered(server)
    bob_credentials = bob.credentials()
    bob.leave()
    ts = timestamp()
    alice.send(ev.Send(alice.user, bob.user, ts, "delete me"),
               ev.Send(alice.user, bob.user, ts + 1, "keep me"))
    alice.expect_next(ev.Accepted(bob.user, ts))
    alice.expect_next(ev.Accepted(bob.user, ts + 1))
    acts = (ev.Act(alice.user, bob.user, ts + 2, ActKind.DELETE, alice.user, ts, ""),
            ev.Act(alice.user, bob.user, ts + 3, ActKind.REACT, alice.user, ts + 1, THUMBS))
    alice.send(*acts)
    alice.expect_next(ev.Accepted(bob.user, ts + 2))
    alice.expect_next(ev.Accepted(bob.user, ts + 3))
    server.kill()
    restarted = server_factory.start(port=server.port)
    again = client_factory.logged_in(*alice.credentials(), restarted)
    again.send(*acts)
    again.expect_next(ev.Accepted(bob.user, ts + 2))
    again.expect_next(ev.Accepted(bob.user, ts + 3))
    back = client_factory.logged_in(*bob_credentials, restarted)
    assert back.sync() == [
        ev.Deliver(alice.user, bob.user, ts, TOMBSTONE),
        ev.Deliver(alice.user, bob.user, ts + 1, "keep me"),
        ev.Acted(*astuple(acts[0])),
        ev.Acted(*astuple(acts[1])),
    ]
