"""The scenarios about size rather than speed: the offline queue, idle connections, a restart.

  offline  senders push offline_messages to offline users (accept rate, counted
           by 16), then the recipients log in all at once and read their queue,
           answering each 06 with 12 (drain rate: from "go" to the last 06; the
           same until every 12 is handled, known by a 14 -> 15 after the last
           12; time from 04 to the first queued 06, per recipient);
  idle     idle_connections clients log in and stay silent (logins per second;
           server RSS above the freshly started server, per connection);
  restart  a database already holding restart_users users and restart_messages
           queued messages; time from starting the process to its first 04.

For idle and restart the users (and queued messages) are written straight into
a database file through the server's own storage API (open_store and Store,
in one batch), which is much faster than registering them over the wire and
leaves the server's memory untouched by a registration phase.
"""

import shutil
import time
from pathlib import Path

from bench import procstat
from bench.fleet import Fleet, jobs_for, register
from bench.load import Driver
from bench.plans import TS_BASE, Account, ClientPlan, Job, make_text
from bench.report import Figure, percentile
from bench.scenarios import KINDS, WINDOW, Context, _share, drive, target
from shared import events as ev
from shared.codec import encode

LONG = 600.0
"""Phase timeout for the big scenarios (the generator reports what it has if it runs out)."""


def populate(db: Path, users: int, messages: int) -> tuple[list[Account], float]:
    """Users with known tokens and `messages` queued 06s (user i to user i+1); and the seconds."""
    # imported here, after __main__ put the run's snapshot first on sys.path
    from interzap_server.service import hash_token
    from interzap_server.storage import open_store

    start = time.monotonic()
    store = open_store(str(db), "normal")
    now = int(time.time())
    accounts = []
    try:
        with store.batch():
            for i in range(users):
                token = f"{i + 1:032x}"
                accounts.append(Account(store.register(hash_token(token), now), token))
            for j in range(messages):
                src, dst = accounts[j % users].user, accounts[(j + 1) % users].user
                seq = j // users + 1
                message = store.add_message(src, dst, TS_BASE + seq, now)
                text = make_text(src, dst, seq, 0)
                store.enqueue(dst, encode(ev.Deliver(src, dst, TS_BASE + seq, text)), message)
    finally:
        store.close()
    return accounts, time.monotonic() - start


def offline_run(ctx: Context, kind: str) -> dict[str, float]:
    sizes = ctx.sizes
    count = sizes.offline_recipients
    per = sizes.offline_messages // count
    with target(ctx, kind) as run:
        senders = register(run.host, run.port, count)
        recipients = register(run.host, run.port, count)  # their connections close: offline
        plans = [ClientPlan(s, r.user) for s, r in zip(senders, recipients, strict=True)]
        template = Job(run.host, run.port, (), window=WINDOW, complete_on=16, count=per,
                       timeout=LONG)
        sent, accept = drive(ctx, run, plans, template)
        plans = [ClientPlan(r, None, expect=per) for r in recipients]
        drained, drain = drive(ctx, run, plans, Job(run.host, run.port, (), mode="drain",
                                                    timeout=LONG))
    first = sorted(drained.first_frame)
    connect = sorted(drained.first_after_connect)
    got = drained.counts["delivered"]
    return {
        "accept_per_wall": _share(sent.counts["accepted"], accept.wall),
        "accept_per_cpu": _share(sent.counts["accepted"], accept.cpu),
        "drain_per_wall": _share(got, (drained.t_delivered - drained.t_start) / 1e9),
        "settle_per_wall": _share(got, (drained.t_end - drained.t_start) / 1e9),
        "drain_per_cpu": _share(got, drain.cpu),
        "first_p50": percentile(first, 50) / 1e6,
        "first_max": percentile(first, 100) / 1e6,
        "connect_p50": percentile(connect, 50) / 1e6,
        "connect_max": percentile(connect, 100) / 1e6,
        "intact_share": _share(drained.counts["intact"], per * count),
    }


def offline(ctx: Context) -> list[Figure]:
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    for _ in range(ctx.sizes.runs):
        for kind in KINDS:
            results[kind].append(offline_run(ctx, kind))
    scenario = (f"offline, {ctx.sizes.offline_messages:,} msgs to "
                f"{ctx.sizes.offline_recipients} users")

    def figure(name: str, unit: str, key: str, **extra: object) -> Figure:
        return Figure(scenario, name, unit, [r[key] for r in results["server"]],
                      [r[key] for r in results["baseline"]], **extra)  # type: ignore[arg-type]

    return [
        figure("accepted (16) / wall s", "msg/s", "accept_per_wall"),
        figure("accepted (16) / server-CPU s", "msg/s", "accept_per_cpu"),
        figure("drained at login / wall s", "msg/s", "drain_per_wall",
               target=">= 20,000 msg/s", rule=("min", 20000)),
        figure("drained and receipted (12 handled) / wall s", "msg/s", "settle_per_wall"),
        figure("drained and receipted / server-CPU s", "msg/s", "drain_per_cpu"),
        figure("04 -> first queued 06, p50 of recipients", "ms", "first_p50",
               target="<= 10 ms", rule=("max", 10.0),
               note="every recipient logs in at the same moment"),
        figure("04 -> first queued 06, slowest recipient", "ms", "first_max"),
        figure("connect+03 -> first queued 06, p50", "ms", "connect_p50"),
        figure("connect+03 -> first queued 06, slowest", "ms", "connect_max"),
        figure("drained intact, in order", "share", "intact_share",
               target="100%", rule=("equal", 1.0)),
    ]


def idle_run(ctx: Context, kind: str, db: Path, accounts: list[Account]) -> dict[str, float]:
    copy = ctx.fresh_db()
    shutil.copyfile(db, copy)
    plans = [ClientPlan(a) for a in accounts]
    with target(ctx, kind, db=copy) as run:
        jobs = jobs_for(Job(run.host, run.port, (), mode="idle", timeout=LONG), plans,
                        ctx.sizes.workers)
        with Fleet(jobs) as fleet:
            time.sleep(0.2)  # the forked generators start; the server sits idle
            before = procstat.sample(run.pid)
            setup = fleet.login()
            after = procstat.sample(run.pid)
            time.sleep(1.0)
            settled = procstat.sample(run.pid)
    delta = procstat.between(before, after)
    return {
        "logged_in": setup.logged_in,
        "logins_per_wall": _share(setup.logged_in, delta.wall),
        "logins_per_cpu": _share(setup.logged_in, delta.cpu),
        "rss_per_conn": _share(settled.rss - before.rss, setup.logged_in) / 1024,
        "rss_idle": before.rss / 2**20,
    }


def idle(ctx: Context) -> list[Figure]:
    count = ctx.sizes.idle_connections
    db = ctx.tmp / "idle-template.db"
    accounts, _ = populate(db, count, 0)
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    for _ in range(ctx.sizes.runs):
        for kind in KINDS:
            results[kind].append(idle_run(ctx, kind, db, accounts))
    scenario = f"idle, {count:,} logged-in connections"

    def figure(name: str, unit: str, key: str, **extra: object) -> Figure:
        return Figure(scenario, name, unit, [r[key] for r in results["server"]],
                      [r[key] for r in results["baseline"]], **extra)  # type: ignore[arg-type]

    return [
        figure("RSS above idle, per connection", "KiB", "rss_per_conn",
               target="<= 2.5 KiB", rule=("max", 2.5)),
        figure("RSS when idle (before the logins)", "MiB", "rss_idle"),
        figure("logins / wall s", "login/s", "logins_per_wall"),
        figure("logins / server-CPU s", "login/s", "logins_per_cpu"),
        figure("logged in", "count", "logged_in", target=f"{count:,}",
               rule=("equal", float(count))),
    ]


def restart(ctx: Context) -> list[Figure]:
    sizes = ctx.sizes
    db = ctx.tmp / "restart.db"
    accounts, seconds = populate(db, sizes.restart_users, sizes.restart_messages)
    listening, login = [], []
    for _ in range(sizes.runs):
        with target(ctx, "server", db=db) as run:
            driver = Driver(Job(run.host, run.port, (ClientPlan(accounts[1]),), mode="idle"))
            try:
                driver.log_in_all()
                logged_in = driver.clients[0].logged_in
            finally:
                driver.close()
        if not logged_in:
            raise RuntimeError(f"restart: the login failed: {driver.stats.errors}")
        listening.append(run.ready - run.started)
        login.append(logged_in / 1e9 - run.started)
    scenario = (f"restart, {sizes.restart_users:,} users, "
                f"{sizes.restart_messages:,} queued")
    note = f"database written through the store API in {seconds:.1f} s"
    return [
        Figure(scenario, "process start -> listening", "s", listening, note=note),
        Figure(scenario, "process start -> first 04", "s", login, target="<= 2 s",
               rule=("max", 2.0)),
    ]
