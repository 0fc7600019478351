"""`python -m bench [--quick] [--only NAME ...] [--runs N] [--postgres | --db URL] [--profile]`.

Runs, prints, writes JSON and draws a PNG of it (charts.py).

`make bench` runs everything at full size (several minutes); `make bench-quick`
runs small sizes once each (under a minute). The table goes to stdout, the
report to bench/results/<timestamp>.json and its chart beside it. With
`--postgres` (a throwaway cluster, fsync on) or `--db URL` (a running
PostgreSQL whose role may create databases) the 1:1 and latency scenarios also
run the server on PostgreSQL, alternating with the SQLite and baseline runs.
`--profile` instead runs the 1:1 load once against a profiled server and
prints the top entries (profiling.py).
"""

import argparse
import logging
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from types import FrameType

from bench import (
    charts,
    client_history,
    client_search,
    cluster,
    floor,
    procstat,
    profiling,
    scale,
    scenarios,
)
from bench.launch import REPO, digest, raise_fd_limit, snapshot
from bench.pgtarget import Postgres
from bench.report import RESULTS, Figure, table, write_json
from bench.scenarios import Context, Sizes

QUICK = Sizes(runs=1, workers=2, duration=1.0, one_to_one_users=(10, 100), group_users=18,
              latency_rates=(2000,), latency_clients=100, latency_duration=1.5,
              latency_warmup=0.3, offline_messages=2000, offline_recipients=20,
              idle_connections=1000, restart_users=10_000, restart_messages=10_000,
              history_messages=10_000, history_samples=50,
              floor_messages=10_000)
FULL = Sizes(runs=3, workers=2, duration=3.0, one_to_one_users=(10, 100, 1000), group_users=99,
             latency_rates=(500, 2000, 5000), latency_clients=100, latency_duration=10.0,
             latency_warmup=1.0, offline_messages=100_000, offline_recipients=100,
             idle_connections=10_000, restart_users=100_000, restart_messages=100_000,
             history_messages=100_000, history_samples=200,
             floor_messages=50_000)

Scenario = Callable[[Context, list[Figure]], list[Figure]]
SCENARIOS: dict[str, Scenario] = {
    "one_to_one": lambda ctx, done: scenarios.one_to_one(ctx),
    "group": lambda ctx, done: scenarios.group_fan_out(ctx),
    "latency": lambda ctx, done: scenarios.latency(ctx),
    "offline": lambda ctx, done: scale.offline(ctx),
    "idle": lambda ctx, done: scale.idle(ctx),
    "restart": lambda ctx, done: scale.restart(ctx),
    "durability": scenarios.durability,
    "history": lambda ctx, done: client_history.history(
        ctx.tmp, ctx.sizes.runs, ctx.sizes.history_messages, ctx.sizes.history_samples),
    "search": lambda ctx, done: client_search.search(
        ctx.tmp, ctx.sizes.runs, ctx.sizes.history_messages),
    "floor": lambda ctx, done: floor.floor(ctx.tmp, ctx.sizes.runs, ctx.sizes.floor_messages),
    "cluster": lambda ctx, done: cluster.cluster(ctx),
}


def profile(ctx: Context, stamp: str, tool: str, group: bool = False) -> None:
    """One 1:1 run at the middle size (or, `group`, the group fan-out run) with the server
    profiled; print the top entries."""
    RESULTS.mkdir(exist_ok=True)
    users = (ctx.sizes.group_users if group
             else ctx.sizes.one_to_one_users[len(ctx.sizes.one_to_one_users) // 2])
    if tool == "py-spy":
        path = ctx.spy = RESULTS / f"{stamp}-server.py-spy.txt"
    else:
        path = ctx.profile = RESULTS / f"{stamp}-server.prof"
    result = scenarios.window_run(ctx, "server", users, scenarios.GROUP_SIZE if group else 0)
    ctx.profile = ctx.spy = None
    print(f"{'groups' if group else '1:1'}, {users} users, server under {tool}: "
          f"{result['complete_per_cpu']:.0f} complete msgs and "
          f"{result['deliveries_per_cpu']:.0f} deliveries per server-CPU s "
          f"({result['completed']:.0f} in {result['server_cpu']:.2f} s)")
    if not path.exists():
        raise SystemExit(f"no profile was written to {path}")
    print(f"profile: {path}")
    print(profiling.spy_summary(path) if tool == "py-spy" else profiling.cprofile_top(path))


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), metavar="NAME",
                        help=f"run only these scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--runs", type=int, help="runs per figure (median, min, max)")
    parser.add_argument("--workers", type=int, help="load generator processes")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true",
                       help="also run the server on a throwaway PostgreSQL cluster")
    where.add_argument("--db", metavar="URL",
                       help="also run the server on this PostgreSQL server (postgresql://...)")
    parser.add_argument("--code", metavar="DIR", type=Path, default=REPO,
                        help="measure the server of another checkout (say, main's), with "
                             "this bench")
    parser.add_argument("--profile", nargs="?", const="cprofile", choices=("cprofile", "py-spy"),
                        help="profile the server under the 1:1 load instead (with --only "
                             "group: the group load; py-spy only if installed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = QUICK if args.quick else FULL
    if args.runs:
        sizes = replace(sizes, runs=args.runs)
    if args.workers:
        sizes = replace(sizes, workers=args.workers)
    raise_fd_limit()
    # SIGTERM unwinds like Ctrl-C, so that every `finally` stops the targets and generators
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)  # even if started in the background (ignored)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="interzap-bench-") as tmp:
        code = snapshot(Path(tmp) / "code", args.code)
        sys.path.insert(0, str(code))  # in-process users of the server's storage and the client
        ctx = Context(sizes, Path(tmp), Path(tmp) / "targets.log", code)
        if args.postgres or args.db:
            ctx.postgres = Postgres(args.db)
        try:
            if args.profile:
                profile(ctx, stamp, args.profile, group=args.only == ["group"])
                return 0
            # what the snapshot holds
            origin = {**revision(args.code), "server_digest": digest(code)}
            return run(ctx, args.only or list(SCENARIOS), stamp,
                       "quick" if args.quick else "full", origin)
        finally:
            if ctx.postgres is not None:
                ctx.postgres.close()


def revision(checkout: Path) -> dict[str, str]:
    """The commit measured, and whether the server or protocol had uncommitted changes."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                                  cwd=checkout).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    dirty = git("status", "--porcelain", "--", "interzap_server", "shared")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "server_changes_uncommitted": "yes" if dirty else "no"}


def run(ctx: Context, names: list[str], stamp: str, mode: str, origin: dict[str, str]) -> int:
    started = time.monotonic()
    load_before = procstat.load_average()
    figures: list[Figure] = []
    failed = []
    for name in names:
        begun = time.monotonic()
        print(f"[{time.monotonic() - started:6.1f} s] {name} ...", file=sys.stderr, flush=True)
        try:
            figures += SCENARIOS[name](ctx, figures)
        except Exception as exc:
            failed.append(name)
            traceback.print_exc()
            figures.append(Figure(name, "FAILED", "", note=f"{type(exc).__name__}: {exc}"))
            if ctx.log.exists():
                print(ctx.log.read_text(errors="replace")[-2000:], file=sys.stderr)
        print(f"[{time.monotonic() - started:6.1f} s] {name} took "
              f"{time.monotonic() - begun:.1f} s", file=sys.stderr, flush=True)
    seconds = time.monotonic() - started
    load_after = procstat.load_average()
    meta = {"mode": mode, "stamp": stamp, "scenarios": names, "failed": failed, **origin,
            "sizes": asdict(ctx.sizes), "seconds": seconds, "load_before": load_before,
            "load_after": load_after}
    print(table(figures))
    for f in figures:
        if f.note:
            print(f"note: {f.scenario} / {f.name}: {f.note}")
    print(f"\n{mode} run of {origin['commit']} (uncommitted server changes: "
          f"{origin['server_changes_uncommitted']}; server+shared digest "
          f"{origin['server_digest']}) in {seconds:.0f} s; load average before "
          f"{load_before[0]:.1f}, after {load_after[0]:.1f} (2 cores)")
    report = write_json(figures, meta, stamp)
    print(f"report: {report}")
    chart = charts.draw(figures, report.with_suffix(".png"), f"{origin['commit']}, {stamp}")
    if chart is not None:
        print(f"chart: {chart}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
