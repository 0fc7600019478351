"""`python -m soak cluster`: nodes of one PostgreSQL database killed at random under real clients.

A throwaway PostgreSQL cluster (bench/pgcluster.py), NODES server processes
on one database of it, CLIENTS scripted clients given every node
(`--server`), spread over them; for CLUSTER_SECONDS (default 60) a random
node is killed with SIGKILL in each round and started again once its clients
have failed over (tests/faults/clusterrun.py). The rows: accepted, delivered,
lost, stored twice, 07 and 09 owed and never received (all must be 0), and
the time to fail over. CLUSTER_SECONDS=N runs longer; FAULTS_SEED=N repeats
the same random choices.
"""

import os
import random
import statistics
import sys
import tempfile
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from backends import Postgres
from faults.clusterrun import ClusterFigures, cluster_run
from faults.killrun import KillRunSize

from bench.pgcluster import Cluster, find_bindir
from soak import Row
from soak.faults import kill_rows

NODES, CLIENTS, PER_ROUND = 3, 30, 6
SECONDS = 60.0
"""The default length of the kill rounds: a short run; CLUSTER_SECONDS=300 for a long one."""
MAX_KILLS = 1000
"""Only a guard: the rounds end when the time is up."""
AREA = "cluster"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def failover_rows(f: ClusterFigures) -> list[Row]:
    times = f.failover
    figure = (f"p50 {statistics.median(times) * 1000:.0f} ms / p99 "
              f"{_percentile(times, 0.99) * 1000:.0f} ms / max {max(times) * 1000:.0f} ms "
              f"over {len(times)} failovers" if times else "no failover")
    return [
        Row(AREA, f"{f.nodes} nodes, {f.run.size.clients} clients, {f.kills} kills in "
            f"{f.seconds:g} s: time to fail over", figure, bool(times)),
        Row(AREA, "clients of a killed node that never came back elsewhere",
            f"{len(f.stranded)}", not f.stranded),
        Row(AREA, "restart of a killed node -> listening (max)",
            f"{max(f.restart, default=0.0):.2f} s", len(f.restart) == f.kills),
    ]


def run_rows(f: ClusterFigures) -> list[Row]:
    """killrun's rows for the same figures, in the cluster's words, less the single server's
    restart row (a node's restart is in failover_rows)."""
    accepted = Row(AREA, f"messages accepted (16), seed {f.run.size.seed}",
                   f"{f.run.accepted} of {f.run.sent}", f.run.accepted == f.run.sent)
    delivered = Row(AREA, "delivered: copies in the recipients' histories",
                    f"{f.run.stored} of {f.run.copies}", f.run.stored == f.run.copies)
    rest = [Row(AREA, row.what, row.figure, row.ok) for row in kill_rows(f.run)[2:]
            if not row.what.startswith(("restart", "unanswered"))]
    waiting = f.run.in_flight
    in_flight = Row(AREA, "unanswered at the kills (fed to the clients, no 16 yet): all / most",
                    f"{sum(waiting)} / {max(waiting, default=0)}", True)
    return [accepted, delivered, *rest[:-1], in_flight, rest[-1]]


def run() -> list[Row]:
    bindir = find_bindir()
    if bindir is None:
        return [Row(AREA, "skipped: no PostgreSQL server binaries", "-", True)]
    seed = int(os.environ.get("FAULTS_SEED", random.randrange(1 << 30)))
    seconds = float(os.environ.get("CLUSTER_SECONDS", SECONDS))
    size = KillRunSize(CLIENTS, MAX_KILLS, PER_ROUND, seed=seed)
    cluster = Cluster.start(bindir)
    try:
        with tempfile.TemporaryDirectory(prefix="soak-cluster-") as tmp:
            figures = cluster_run(Path(tmp), size, Postgres(cluster), NODES, seconds)
        return failover_rows(figures) + run_rows(figures)
    except Exception as exc:
        traceback.print_exc()
        return [Row(AREA, "the run itself", f"crashed: {exc!r}"[:80], False)]
    finally:
        cluster.stop()
