"""What the cluster tests share: the nodes fixture's type, the bound of a live frame, a
group made across nodes, and what an in-process node's listener hears."""

import selectors
import time
from collections.abc import Callable

from server.rules_kit import Node
from wire import ServerProcess, WireClient, timestamp

from interzap_server.storage import Heard
from shared import events as ev

Nodes = Callable[..., list[ServerProcess]]
"""nodes(count, *args): that many nodes started at once, `node-1`, `node-2`, ..., each
with the extra arguments `args`."""

LIVE = 1.0
"""Seconds a frame may take to reach another node's user: the issue's bound."""
GUARD = 5.0
"""Seconds to wait for a notification: a guard only (they come in a millisecond)."""


def make_group(creator: WireClient, others: list[WireClient]) -> str:
    """A group of `creator` and `others` (on any nodes); every member has had its 11."""
    ts = timestamp()
    creator.send(ev.CreateGroup(creator.user, ts, tuple(m.user for m in others)))
    groups = {m.expect_next(ev.GroupCreated, LIVE).group  # type: ignore[attr-defined]
              for m in (creator, *others)}
    assert len(groups) == 1, groups
    return groups.pop()


def hear(node: Node, until: int = 1) -> list[Heard]:
    """What the node's listener drains once at least `until` items came (or the guard)."""
    listener = node.service.listener
    heard: list[Heard] = []
    deadline = time.monotonic() + GUARD
    with selectors.DefaultSelector() as selector:
        fd = listener.fileno()
        assert fd is not None
        selector.register(fd, selectors.EVENT_READ)
        while len(heard) < until and selector.select(deadline - time.monotonic()):
            heard += listener.drain()
    return heard
