"""The message-path scenarios of issue 4: 1:1 throughput, group fan-out, latency, durability.

Each run starts a fresh target (the server on a fresh SQLite file, or the bare
router of baseline.py), registers its users through the protocol, lets the
generator processes log in, and only then reads the target's CPU time: login
and setup are outside the measured window, the drain of what is still in
flight at the end is inside it. Server and baseline runs alternate, so that
the neighbours' noise falls on both alike. The other scenarios are in
scale.py (offline queue, idle connections, restart) and client_history.py.
"""

import itertools
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import procstat, profiling
from bench.fleet import Fleet, jobs_for, register
from bench.launch import Running, baseline_command, running, server_command
from bench.pgtarget import Postgres
from bench.plans import GROUP, Account, ClientPlan, Job, Stats
from bench.report import Figure, percentile

KINDS = ("server", "baseline")
POSTGRESQL = "postgresql"
"""The server on PostgreSQL: a third kind of run, with --postgres or --db URL."""
GROUP_SIZE = 9
WINDOW = 32


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big and how long; QUICK and FULL in __main__.py."""

    runs: int
    workers: int
    duration: float
    one_to_one_users: tuple[int, ...]
    group_users: int
    latency_rates: tuple[int, ...]
    latency_clients: int
    latency_duration: float
    latency_warmup: float
    offline_messages: int
    offline_recipients: int
    idle_connections: int
    restart_users: int
    restart_messages: int
    history_messages: int
    history_samples: int
    floor_messages: int


@dataclass(slots=True)
class Context:
    sizes: Sizes
    tmp: Path
    log: Path
    """stderr of every target started (appended)."""
    code: Path
    """The snapshot of the code every target is started from (launch.snapshot)."""
    profile: Path | None = None
    """If set, the next server started runs under cProfile writing here."""
    spy: Path | None = None
    """If set, py-spy samples the target during each measured phase into this raw file."""
    postgres: Postgres | None = None
    """If set, the message-path scenarios also run the server on PostgreSQL."""
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def fresh_db(self) -> Path:
        return self.tmp / f"interzap-{next(self._serial)}.db"

    @property
    def kinds(self) -> tuple[str, ...]:
        """The targets each figure alternates between."""
        return (*KINDS, POSTGRESQL) if self.postgres else KINDS


@contextmanager
def target(ctx: Context, kind: str, db: Path | None = None,
           sync: str = "full") -> Iterator[Running]:
    """The server (on `db`, or a fresh file) or the baseline, stopped when the block ends."""
    if kind == "baseline":
        command = baseline_command()
    elif kind == POSTGRESQL:
        assert ctx.postgres is not None
        command = server_command(ctx.postgres.fresh(), sync, ctx.profile)
    else:
        command = server_command(db or ctx.fresh_db(), sync, ctx.profile)
    with running(kind, command, ctx.log, ctx.code) as started:
        yield started


def ring(accounts: list[Account]) -> list[ClientPlan]:
    """Each user writes to the next one: everybody sends and receives."""
    return [ClientPlan(a, accounts[(i + 1) % len(accounts)].user) for i, a in enumerate(accounts)]


def groups_of(accounts: list[Account], size: int) -> list[ClientPlan]:
    """Consecutive blocks of `size` users; the first creates the group, all write to it."""
    plans = []
    for i, a in enumerate(accounts):
        first = i - i % size
        members = tuple(b.user for b in accounts[first + 1:first + size]) if i == first else ()
        plans.append(ClientPlan(a, GROUP, members))
    return plans


def drive(ctx: Context, run: Running, plans: list[ClientPlan], template: Job,
          align: int = 1, more: Sequence[Running] = ()) -> tuple[Stats, procstat.Delta]:
    """Log the clients in, then measure the target (and the `more` nodes beside it, their
    CPU added to its) over the load phase."""
    jobs = jobs_for(template, plans, ctx.sizes.workers, align)
    with Fleet(jobs) as fleet:
        setup = fleet.login()
        expected = 0 if template.mode == "drain" else len(plans)  # drain logs in at "go"
        if setup.logged_in != expected or setup.no_group:
            raise RuntimeError(f"setup failed: {setup}")
        spy = profiling.spy_start(run.pid, ctx.spy) if ctx.spy else None
        database = ctx.postgres.cpu_seconds() if ctx.postgres else None
        pids = [run.pid, *(node.pid for node in more)]
        before = [procstat.sample(pid) for pid in pids]
        try:
            stats = fleet.go()
        finally:
            after = [procstat.sample(pid) for pid in pids]
            if spy is not None:
                profiling.spy_stop(spy)
    if ctx.postgres and database is not None:
        used = ctx.postgres.cpu_seconds()
        stats.counts["database_cpu_ms"] = round(((used or database) - database) * 1000)
    return stats, procstat.together([procstat.between(*pair)
                                     for pair in zip(before, after, strict=True)])


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def window_run(ctx: Context, kind: str, users: int, group: int = 0,
               sync: str = "full") -> dict[str, float]:
    """One throughput run: `users` online, at most WINDOW messages in flight each."""
    with target(ctx, kind, sync=sync) as run:
        return window_measure(ctx, [run], users, group)


def spread(plans: list[ClientPlan], nodes: Sequence[Running]) -> list[ClientPlan]:
    """Client i on node i % len(nodes): in a ring, each one writes to the next node."""
    return [replace(plan, port=nodes[i % len(nodes)].port) for i, plan in enumerate(plans)]


def window_measure(ctx: Context, nodes: Sequence[Running], users: int,
                   group: int = 0) -> dict[str, float]:
    """A throughput run on running nodes (one, or several on one database)."""
    run = nodes[0]
    accounts = register(run.host, run.port, users)
    plans = spread(groups_of(accounts, group) if group else ring(accounts), nodes)
    template = Job(run.host, run.port, (), window=WINDOW, duration=ctx.sizes.duration)
    stats, delta = drive(ctx, run, plans, template, align=group or 1, more=nodes[1:])
    counts = stats.counts
    fanout = group - 1 if group else 1
    return {
        "completed": counts["completed"],
        "deliveries": counts["delivered"],
        "intact_share": _share(counts["intact"], counts["sent"] * fanout),
        "complete_per_cpu": _share(counts["completed"], delta.cpu),
        "complete_per_wall": _share(counts["completed"], delta.wall),
        "deliveries_per_cpu": _share(counts["delivered"], delta.cpu),
        "deliveries_per_wall": _share(counts["delivered"], delta.wall),
        "server_cpu": delta.cpu,
        "wall": delta.wall,
        "database_cpu_us_per_msg": _share(counts["database_cpu_ms"] * 1000,
                                          counts["completed"]),
        "problems": sum(counts[k] for k in ("errors", "disconnects", "malformed", "corrupt",
                                            "misrouted", "duplicates", "gaps", "phase_timeouts",
                                            "lost_in_flight")),
    }


def paced_run(ctx: Context, kind: str, rate: int, sync: str = "full") -> dict[str, float]:
    """One latency run: latency_clients users in a ring, `rate` messages per second in all."""
    with target(ctx, kind, sync=sync) as run:
        return paced_measure(ctx, [run], rate)


def paced_measure(ctx: Context, nodes: Sequence[Running], rate: int) -> dict[str, float]:
    """A latency run on running nodes; with several, every message crosses to another."""
    sizes = ctx.sizes
    run = nodes[0]
    accounts = register(run.host, run.port, sizes.latency_clients)
    template = Job(run.host, run.port, (), mode="paced", window=WINDOW, rate=rate,
                   duration=sizes.latency_duration, warmup=sizes.latency_warmup)
    stats, delta = drive(ctx, run, spread(ring(accounts), nodes), template, more=nodes[1:])
    result: dict[str, float] = {
        "achieved_rate": stats.counts["sent"] / sizes.latency_duration,
        "skipped": stats.counts["skipped_window_full"],
        "server_cpu_share": _share(delta.cpu, delta.wall),
    }
    for name, samples in (("16", stats.lat16), ("06", stats.lat06), ("07", stats.lat07)):
        ordered = sorted(samples)
        for p in (50, 99, 99.9):
            result[f"p{p:g}_{name}"] = percentile(ordered, p) / 1e6
    return result


def _runs(ctx: Context, measure: Callable[..., dict[str, float]], *args: object,
          kinds: tuple[str, ...] | None = None,
          **kwargs: object) -> dict[str, list[dict[str, float]]]:
    """ctx.sizes.runs runs of each kind (all of ctx.kinds by default), alternating."""
    kinds = kinds or ctx.kinds
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for number in range(1, ctx.sizes.runs + 1):
        for kind in kinds:
            started = time.monotonic()
            results[kind].append(measure(ctx, kind, *args, **kwargs))
            print(f"    {measure.__name__}{args}: {kind} run {number} took "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return results


def _figure(scenario: str, name: str, unit: str, key: str,
            results: dict[str, list[dict[str, float]]], kind: str = "server",
            **extra: object) -> Figure:
    """A figure of the server on SQLite (or of `kind`), beside the baseline's."""
    if kind != "server":
        scenario = f"{scenario}, {kind}"
    return Figure(scenario, name, unit, [r[key] for r in results[kind]],
                  [r[key] for r in results.get("baseline", [])], **extra)  # type: ignore[arg-type]


def _kinds(results: dict[str, list[dict[str, float]]]) -> list[str]:
    """The server's kinds in `results`: SQLite, and PostgreSQL if it ran."""
    return [kind for kind in ("server", POSTGRESQL) if kind in results]


def one_to_one(ctx: Context) -> list[Figure]:
    figures = []
    for users in ctx.sizes.one_to_one_users:
        results = _runs(ctx, window_run, users)
        scenario = f"1:1, {users:,} users"
        for kind in _kinds(results):
            figures += [
                _figure(scenario, "complete msgs / server-CPU s", "msg/s", "complete_per_cpu",
                        results, kind, target=">= 25% of baseline", rule=("min_ratio", 0.25)),
                _figure(scenario, "complete msgs / wall s", "msg/s", "complete_per_wall",
                        results, kind),
                _figure(scenario, "intact to the right recipient", "share", "intact_share",
                        results, kind, target="100%", rule=("equal", 1.0)),
                _figure(scenario, "errors, losses, timeouts", "count", "problems", results,
                        kind),
            ]
            if kind == POSTGRESQL:
                figures.append(_figure(scenario, "PostgreSQL CPU / complete msg", "us",
                                       "database_cpu_us_per_msg", results, kind))
    return figures


def group_fan_out(ctx: Context) -> list[Figure]:
    results = _runs(ctx, window_run, ctx.sizes.group_users, group=GROUP_SIZE, kinds=KINDS)
    scenario = f"groups of {GROUP_SIZE}, {ctx.sizes.group_users} users"
    return [
        _figure(scenario, "deliveries (06+12) / server-CPU s", "del/s", "deliveries_per_cpu",
                results, target=">= 25% of baseline", rule=("min_ratio", 0.25)),
        _figure(scenario, "deliveries / wall s", "del/s", "deliveries_per_wall", results),
        _figure(scenario, "intact to the right recipient", "share", "intact_share", results,
                target="100%", rule=("equal", 1.0)),
        _figure(scenario, "errors, losses, timeouts", "count", "problems", results),
    ]


def latency(ctx: Context) -> list[Figure]:
    figures = []
    for rate in ctx.sizes.latency_rates:
        results = _runs(ctx, paced_run, rate)
        scenario = f"latency, {rate:,} msg/s, {ctx.sizes.latency_clients} clients"
        for kind in _kinds(results):
            figures += _latency_figures(scenario, rate, results, kind)
    return figures


def _latency_figures(scenario: str, rate: int, results: dict[str, list[dict[str, float]]],
                     kind: str) -> list[Figure]:
    bound = 2.0 if rate <= 2000 else 5.0
    figures = [_figure(scenario, "achieved send rate", "msg/s", "achieved_rate", results, kind)]
    for name, label in (("16", "05->16"), ("06", "05->06"), ("07", "05->07")):
        for p in (50, 99, 99.9):
            extra: dict[str, object] = {}
            if name == "06" and p == 99 and kind == "server":
                extra = {"target": f"<= {bound:g} ms", "rule": ("max", bound)}
            elif name == "07" and p == 50 and kind == POSTGRESQL and rate == 2000:
                extra = {"target": "< 20 ms", "rule": ("max", 20.0)}
            figures.append(_figure(scenario, f"{label} p{p:g}", "ms", f"p{p:g}_{name}",
                                   results, kind, **extra))
    return figures


def durability(ctx: Context, full: list[Figure]) -> list[Figure]:
    """The 1:1 figure (the middle size) with --sync normal, beside the --sync full one;
    and the 2,000 msg/s latency with --sync normal, which shows what the fsync costs."""
    users = ctx.sizes.one_to_one_users[len(ctx.sizes.one_to_one_users) // 2]
    normal = {"server": [window_run(ctx, "server", users, sync="normal")
                         for _ in range(ctx.sizes.runs)]}
    scenario = f"durability, 1:1 {users:,} users"
    figures = []
    for key, name in (("complete_per_cpu", "server-CPU s"), ("complete_per_wall", "wall s")):
        same = [f for f in full if f.scenario == f"1:1, {users:,} users"
                and f.name == f"complete msgs / {name}"]
        if same:
            figures.append(Figure(scenario, f"--sync full: msgs / {name}", "msg/s",
                                  list(same[0].server), target="reported"))
        figures.append(_figure(scenario, f"--sync normal: msgs / {name}", "msg/s", key, normal,
                               target="reported"))
    rate = 2000
    paced = {"server": [paced_run(ctx, "server", rate, sync="normal")
                        for _ in range(ctx.sizes.runs)]}
    scenario = f"durability, latency {rate:,} msg/s"
    for p in (50, 99, 99.9):
        figures.append(_figure(scenario, f"--sync normal: 05->06 p{p:g}", "ms", f"p{p:g}_06",
                               paced))
    return figures
