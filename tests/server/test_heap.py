"""The cycle collector runs between loop iterations only (interzap_server/heap.py)."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from interzap_server import heap


class Cycle:
    """An object that refers to itself: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def small_young_generation() -> Iterator[None]:
    """The collector off with a young threshold of 50, as heap.settle() leaves it with
    GC_GEN0; the test process's own settings afterwards."""
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.collect()
    gc.disable()
    gc.set_threshold(50, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if enabled:
            gc.enable()


def test_heap_between_iterations_collects_once_the_young_generation_is_past_its_threshold(
        small_young_generation: None) -> None:
    """A cycle made in an iteration stays until enough objects outlived their iterations,
    and goes at the next call between iterations then."""
    cycle = Cycle()
    gone = weakref.ref(cycle)
    del cycle
    heap.between_iterations()
    assert gone() is not None  # the young generation is under its threshold
    kept: list[list[int]] = [[] for _ in range(100)]  # objects that outlive the iteration
    assert gone() is not None  # no automatic collection: the collector is off
    heap.between_iterations()
    assert gone() is None
    assert kept
