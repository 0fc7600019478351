"""The cluster scenario: 1 and 2 server nodes on one PostgreSQL database (issue 16).

Needs `--postgres` (or `--db URL`). For each node count, the nodes are started
on one fresh database and the users spread over them, user i on node i % n, in
a ring where each writes to the next: with two nodes every message crosses
from one node to the other (05 on A, 06 from B). Throughput is the 1:1 window
load of scenarios.py, per wall second, per CPU second of all the nodes
together, and per CPU second of PostgreSQL (the postmaster and its children);
latency is the paced load at CROSS_RATE messages a second. Nodes run the code
of the snapshot, as every target does, with their default options for a
cluster; the latency of two nodes is measured once more with `--sync normal`
(synchronous_commit off: a crash of PostgreSQL may lose what it acknowledged
in the last moments), to show what the wait for the WAL flush costs.
"""

from contextlib import ExitStack

from bench.launch import running, server_command
from bench.report import Figure
from bench.scenarios import POSTGRESQL, Context, paced_measure, window_measure

NODE_COUNTS = (1, 2)
CROSS_RATE = 1000
"""Messages a second of the latency runs (the issue's target: 05->06 p99 <= 5 ms)."""
USERS = 100
"""Online users of the throughput runs (even: the ring crosses nodes at every step)."""


def _with_nodes(ctx: Context, count: int, measure: str, sync: str = "full") -> dict[str, float]:
    """One run of `measure` ("window" or "paced") on `count` nodes of a fresh database."""
    assert ctx.postgres is not None
    db = ctx.postgres.fresh()
    with ExitStack() as stack:
        command = [*server_command(db, sync), "--cluster"]
        nodes = [stack.enter_context(running(f"node{n}", command, ctx.log, ctx.code))
                 for n in range(count)]
        if measure == "window":
            return window_measure(ctx, nodes, USERS)
        return paced_measure(ctx, nodes, CROSS_RATE)


def cluster(ctx: Context) -> list[Figure]:
    if ctx.postgres is None:
        return [Figure("cluster", "skipped", "", note="needs --postgres or --db URL")]
    figures = []
    for count in NODE_COUNTS:
        window = [_with_nodes(ctx, count, "window") for _ in range(ctx.sizes.runs)]
        paced = [_with_nodes(ctx, count, "paced") for _ in range(ctx.sizes.runs)]
        scenario = f"cluster, {count} node{'s' if count > 1 else ''}, {POSTGRESQL}"
        figures += [
            Figure(scenario, f"complete msgs / wall s ({USERS} users)", "msg/s",
                   [r["complete_per_wall"] for r in window]),
            Figure(scenario, "complete msgs / CPU s of all nodes", "msg/s",
                   [r["complete_per_cpu"] for r in window]),
            Figure(scenario, "complete msgs / CPU s of PostgreSQL", "msg/s",
                   [1e6 / r["database_cpu_us_per_msg"] for r in window]),
            Figure(scenario, "errors, losses, timeouts", "count",
                   [r["problems"] for r in window], target="0", rule=("equal", 0.0)),
            Figure(scenario, f"achieved rate, paced at {CROSS_RATE:,} msg/s", "msg/s",
                   [r["achieved_rate"] for r in paced]),
        ]
        crossing = "cross-node " if count > 1 else ""
        for p in (50, 99):
            extra: dict[str, object] = {}
            if p == 99 and count > 1:
                extra = {"target": "<= 5 ms", "rule": ("max", 5.0)}
            figures.append(Figure(scenario, f"{crossing}05->06 p{p}", "ms",
                                  [r[f"p{p}_06"] for r in paced], **extra))  # type: ignore[arg-type]
    unsynced = [_with_nodes(ctx, NODE_COUNTS[-1], "paced", "normal")
                for _ in range(ctx.sizes.runs)]
    figures += [Figure(f"cluster, {NODE_COUNTS[-1]} nodes, {POSTGRESQL}, --sync normal",
                       f"cross-node 05->06 p{p}", "ms", [r[f"p{p}_06"] for r in unsynced])
                for p in (50, 99)]
    return figures
