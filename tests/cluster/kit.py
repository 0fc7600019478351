"""What the cluster tests share: the nodes fixture's type, the bound of a live frame, and
a group made across nodes."""

from collections.abc import Callable

from wire import ServerProcess, WireClient, timestamp

from shared import events as ev

Nodes = Callable[..., list[ServerProcess]]
"""nodes(count, *args): that many nodes started at once, `node-1`, `node-2`, ..., each
with the extra arguments `args`."""

LIVE = 1.0
"""Seconds a frame may take to reach another node's user: the issue's bound."""


def make_group(creator: WireClient, others: list[WireClient]) -> str:
    """A group of `creator` and `others` (on any nodes); every member has had its 11."""
    ts = timestamp()
    creator.send(ev.CreateGroup(creator.user, ts, tuple(m.user for m in others)))
    groups = {m.expect_next(ev.GroupCreated, LIVE).group  # type: ignore[attr-defined]
              for m in (creator, *others)}
    assert len(groups) == 1, groups
    return groups.pop()
