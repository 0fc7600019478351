"""What the heartbeat costs the loop's tick (session 8, presence across nodes), in process.

One server (the tests' rules_kit Node, 20 users logged in) runs the tick's batch
once a second, alternately without and with the heartbeat: without, the
operator's changes (and, as a node, its sweep of queue heads); with, Service.sweep,
which adds the heartbeat (and, as a node, the look for dead nodes). A second
apart, so that each heartbeat changes its row as in the loop. Prints the median
time of each batch, its commit included, and its statements.

    python -m bench.heartbeat_tick [--postgres] [--rounds N]

SQLite (a file in a temporary folder on the working disk, --sync full), or a
node on a throwaway PostgreSQL cluster with fsync on (bench/pgcluster.py).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.pgcluster import Cluster, find_bindir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from server.rules_kit import Node  # the tests' in-process server


def measure(db: str, rounds: int) -> None:
    node = Node(db, shared="://" in db)
    for _ in range(20):
        node.register()
    runner = node.store._runner
    real = runner.run
    statements: list[str] = []
    runner.run = lambda sql, *params: statements.append(sql) or real(sql, *params)  # type: ignore
    times: dict[bool, list[float]] = {False: [], True: []}
    counts: dict[bool, int] = {}
    for index in range(2 * rounds):
        beat = bool(index % 2)
        time.sleep(1.3 - time.time() % 1)  # into the next second: the heartbeat changes
        statements.clear()
        start = time.perf_counter()
        with node.service.batch(1000.0 + index):
            node.service.watch_accounts()
            if beat:
                node.service.sweep()
            elif node.store.shared:
                node.service._chore("sweep", node.sessions.sweep)  # the sweep alone
        node.service.settle()
        times[beat].append(time.perf_counter() - start)
        counts[beat] = len(statements)
    runner.run = real  # type: ignore[method-assign]
    node.close()
    for beat in (False, True):
        print(f"{'with' if beat else 'without'} the heartbeat: median "
              f"{statistics.median(times[beat]) * 1e6:,.0f} us, {counts[beat]} statements, "
              f"n={len(times[beat])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not args.postgres:
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
            measure(str(Path(folder) / "tick.db"), args.rounds)
        return
    cluster = Cluster.start(find_bindir(), durable=True)
    try:
        measure(cluster.create_database(), args.rounds)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
