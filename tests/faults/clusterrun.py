"""The cluster run: kill -9 of random nodes of a cluster while its clients chat and fail over.

Used by soak/cluster.py (`make soak ARGS=cluster`). The kill-run of
killrun.py, on several server processes (nodes) sharing one PostgreSQL
database: every client is a real scripted client given the whole list of
nodes (`--server`), each list starting at another node so that the fleet is
spread over them. Rounds go on for a given time; in each round but the last,
once a random number of its messages has been accepted, a node that holds
clients is killed with SIGKILL. Its clients fail over to the next node of
their list by themselves (the lists are every order of the nodes, in turn);
once each of them has printed `reconnected` there, the node is started again
on the same port (where later failovers bring clients back to it). The time
to fail over is, per client of a killed node, from the kill to its
`reconnected`; which node a client is on comes from the
`server` field of its `logged_in` and `reconnected` events. The settling, the
second login and the counting are killrun.py's: accepted, lost, stored twice,
07 and 09 owed and never received.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

from backends import Backend
from wire import ServerProcess

from faults.killrun import SERVER_ARGS, KillRun, KillRunFigures, KillRunSize
from faults.kit import Fleet, FleetClient


@dataclass(slots=True)
class ClusterFigures:
    nodes: int
    seconds: float
    run: KillRunFigures
    kills: int = 0
    failover: list[float] = field(default_factory=list)
    """Per client of a killed node: seconds from the kill to its `reconnected` elsewhere."""
    stranded: list[str] = field(default_factory=list)
    """Clients of a killed node that did not reconnect elsewhere within the guard."""
    restart: list[float] = field(default_factory=list)
    """Per kill: seconds from starting the node again to its `listening on` line."""


class ClusterRun(KillRun):
    """One run over `nodes` nodes for about `seconds` (kills happen while time is left)."""

    def __init__(self, folder: Path, size: KillRunSize, backend: Backend, nodes: int,
                 seconds: float) -> None:
        super().__init__(folder, size, backend)
        self.nodes: list[ServerProcess] = []
        self.cluster = ClusterFigures(nodes, seconds, self.figures)

    def run_cluster(self) -> ClusterFigures:
        self.run()
        return self.cluster

    def _set_up(self) -> None:
        self.nodes = [self.servers.start(extra_args=[*SERVER_ARGS, "--cluster"])
                      for _ in range(self.cluster.nodes)]
        self.server = self.nodes[0]  # accounts and groups are made there
        self.fleet = Fleet(self.folder, self.server.port, self._server_list)
        self._populate()

    def _server_list(self, index: int) -> tuple[str, ...]:
        """Every node, in the index-th of their orders (the fleet takes each in turn): the
        clients start spread over the nodes, and those of a killed node split among the
        others."""
        orders = list(itertools.permutations(self.nodes))
        order = orders[index % len(orders)]
        return ("--server", ",".join(f"{node.host}:{node.port}" for node in order))

    def _rounds(self) -> None:
        deadline = time.monotonic() + self.cluster.seconds
        round_ = 0
        while time.monotonic() < deadline and round_ < self.size.kills:
            self._round(round_, kill=True)
            round_ += 1
        self._round(round_, kill=False)

    def _fault(self) -> None:
        """kill -9 of a random node that holds clients; wait for them elsewhere; restart it."""
        assert self.fleet is not None
        on = {client.user: _node_of(client) for client in self.fleet.clients}
        held = sorted({address for address in on.values() if address is not None})
        victim_address = self.rng.choice(held)
        victim = next(n for n in self.nodes if f"{n.host}:{n.port}" == victim_address)
        moving = [c for c in self.fleet.clients if on[c.user] == victim_address]
        victim.kill()
        killed = time.monotonic()
        self.cluster.kills += 1
        self.figures.in_flight.append(len(self.sent) - self._accepted())
        if self._wait(lambda: all(c.seen("reconnected", killed) for c in moving),
                      f"the clients of {victim_address} to fail over"):
            self.cluster.failover += [c.first_at("reconnected", killed) - killed
                                      for c in moving]
        else:
            self.cluster.stranded += [c.user for c in moving
                                      if not c.seen("reconnected", killed)]
        started = time.monotonic()
        again = self.servers.start(port=victim.port, extra_args=[*SERVER_ARGS, "--cluster"])
        self.cluster.restart.append(time.monotonic() - started)
        self.nodes[self.nodes.index(victim)] = again


def _node_of(client: FleetClient) -> str | None:
    """The node a client logged in on last (the `server` of its latest login event)."""
    logins = [event for _, event in client.events
              if event["event"] in ("logged_in", "reconnected")]
    return logins[-1].get("server") if logins else None


def cluster_run(folder: Path, size: KillRunSize, backend: Backend, nodes: int,
                seconds: float) -> ClusterFigures:
    """Run the cluster run in `folder` on a fresh database of `backend` (PostgreSQL)."""
    return ClusterRun(folder, size, backend, nodes, seconds).run_cluster()
