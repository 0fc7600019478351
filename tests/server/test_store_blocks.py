"""The store's blocks, in process: what they answer, and that the check each 1:1 message
makes costs no statement while the caches are on (storage/blocks.py)."""

from interzap_server.storage import Store
from server import test_store
from server.test_store import both, statements, users

store = test_store.store  # the fixture: a store with its caches on, or off under `both`


def test_store_blocks_answered_from_memory_once_loaded(store: Store) -> None:
    """With the caches on, the first check loads every block; later ones run nothing, and
    a block or an unblock is seen at once."""
    alice, bob, carol = users(store, 3)
    with store.batch():
        store.blocks.block(alice, bob)
    with store.batch():
        assert store.blocks.blocks(alice, bob)
    with store.batch(), statements(store) as seen:
        assert store.blocks.blocks(alice, bob)
        assert not store.blocks.blocks(bob, alice)
        assert not store.blocks.blocks(alice, carol)
    assert seen == []
    with store.batch():
        store.blocks.block(alice, carol)
        store.blocks.unblock(alice, bob)
    with store.batch(), statements(store) as seen:
        assert store.blocks.blocks(alice, carol)
        assert not store.blocks.blocks(alice, bob)
    assert seen == []


def test_store_blocks_forgotten_with_a_rolled_back_batch(store: Store) -> None:
    """A block of a batch that rolls back holds neither in the database nor in memory."""
    alice, bob = users(store, 2)
    with store.batch():
        assert not store.blocks.blocks(alice, bob)
    store.begin()
    store.blocks.block(alice, bob)
    assert store.blocks.blocks(alice, bob)
    store.rollback()
    with store.batch():
        assert not store.blocks.blocks(alice, bob)
        assert store.blocks.blocked_by(alice) == ()


@both
def test_store_blocks_listed_by_number_and_idempotent(store: Store) -> None:
    """Blocking twice keeps one row; unblocking someone not blocked changes nothing."""
    alice, bob, carol = users(store, 3)
    with store.batch():
        store.blocks.block(alice, carol)
        store.blocks.block(alice, bob)
        store.blocks.block(alice, bob)
        store.blocks.unblock(bob, alice)
    with store.batch():
        assert store.blocks.blocked_by(alice) == (bob, carol)
        assert store.blocks.blocked_by(bob) == ()
        assert store.blocks.blocks(alice, bob)
