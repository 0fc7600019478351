"""The server's heap and the cycle collector: when it runs, and what it leaves alone.

Knows the gc module; knows no sockets, no SQL and no chat rule.

Theory of operation: objects die by reference counting; the collector only
finds cycles, and each of its passes scans every tracked object of the
generations it collects. What exists after start-up lives as long as the
process, so it is frozen out of every pass (settle()). A loop iteration under
load keeps some 20 tracked objects per message alive until its commit (the
event and its line, the unit, its effects, the writes' rows and keys): an
automatic young collection in the middle of a batch scanned all of them, again
and again (10% of the server's CPU at 100 users at a threshold of 10,000;
bench/README.md, "Session 9"). So the collector is switched off, and the loop
calls between_iterations() once a batch's objects are gone, where a young
collection finds only what outlived its iteration.
"""

import gc

GC_GEN0 = 100_000
"""Tracked objects (allocations net of frees) that outlived their iterations before a young
collection; CPython's automatic default is 700. Generations 1 and 2 keep CPython's
thresholds, counted in young and middle collections as CPython counts them."""


def settle() -> None:
    """After start-up: freeze what exists (gc.freeze) and stop automatic collections."""
    gc.collect()
    gc.freeze()
    gc.disable()
    gc.set_threshold(GC_GEN0, *gc.get_threshold()[1:])


def between_iterations() -> None:
    """Collect the oldest generation due, if the young one passed its threshold, as the
    automatic collector would, but only here, where no batch holds objects."""
    young, middle, old = gc.get_count()
    young_limit, middle_limit, old_limit = gc.get_threshold()
    if young > young_limit:
        if middle > middle_limit:
            gc.collect(2 if old > old_limit else 1)
        else:
            gc.collect(0)
