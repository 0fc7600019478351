"""`python -m soak faults`: the fault runs of tests/faults at full size, as rows of the table.

kill -9 of the server at random moments under 20 real scripted clients chatting
1:1 and in groups; a recipient's client killed at random moments of a long
burst; the database locked by another process for five seconds; the
database's disk full. The runs themselves live in tests/faults (where the
tests run them small and assert on them); this module sizes them and turns
their figures into rows. FAULTS_SEED=N repeats the same random kill points.
"""

import os
import random
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from faults.clientkill import BurstFigures, burst_kill_run
from faults.killrun import KillRunFigures, KillRunSize, kill_run
from faults.storage import DiskUnavailable, FaultFigures, full_disk_run, lock_run

from soak import Row

KILL_RUN = KillRunSize(clients=20, kills=10, per_round=20)
BURST, BURST_KILLS = 500, 8
LOCK_SECONDS = 5.0
DISK_SENDS = 200
PING_BOUND = 1.0
"""Seconds a ping may take during a lock: generous, the busy timeout is 0.2 s."""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _max(values: list[float]) -> str:
    return f"{max(values):.2f} s" if values else "-"


def _count(items: list[str]) -> str:
    """How many, and the first one (for finding it in the logs)."""
    return f"{len(items)} (e.g. {items[0][:40]})" if items else "0"


def kill_rows(f: KillRunFigures) -> list[Row]:
    size = f.size
    area = "kill -9 server"
    run = f"{size.clients} clients, {size.kills} kills (seed {size.seed})"
    return [
        Row(area, f"{run}: messages accepted (16)", f"{f.accepted} of {f.sent}",
            f.accepted == f.sent),
        Row(area, "copies in recipients' histories", f"{f.stored} of {f.copies}",
            f.stored == f.copies),
        Row(area, "lost", _count(f.lost), not f.lost),
        Row(area, "stored twice in a history", _count(f.twice), not f.twice),
        Row(area, "07 owed, never received (after logging in again)", _count(f.no_delivered),
            not f.no_delivered),
        Row(area, "09 owed, never received (after logging in again)", _count(f.no_read),
            not f.no_read),
        Row(area, "unanswered at the kills (fed to the clients, no 16 yet)",
            f"{sum(f.in_flight)} ({', '.join(map(str, f.in_flight))})", True),
        Row(area, "restart -> listening / first accepted login / all clients back (max)",
            f"{_max(f.listening)} / {_max(f.first_login)} / {_max(f.all_back)}",
            len(f.first_login) == len(f.all_back) == size.kills),
        Row(area, "client errors, bad exits, waits that ran out", _count(f.problems),
            not f.problems),
    ]


def burst_rows(f: BurstFigures) -> list[Row]:
    area = "kill -9 client"
    run = f"{f.kills} kills in a {f.total}-message burst (seed {f.seed})"
    return [
        Row(area, f"{run}: lost / stored twice", f"{f.lost} / {f.twice}",
            f.lost == 0 and f.twice == 0),
        Row(area, "07s the author never got / got twice",
            f"{f.no_delivered} / {f.delivered_twice}",
            f.no_delivered == 0 and f.delivered_twice == 0),
        Row(area, "messages printed at each kill / held on disk",
            f"{f.killed_after} / {f.held_at_kill}", f.last_status == 0),
    ]


def storage_rows(area: str, fault: str, f: FaultFigures) -> list[Row]:
    answered = sum(f.answers.values())
    return [
        Row(area, f"{fault}: 05s answered", ", ".join(f"{n} x {a}" for a, n in f.answers.items()),
            answered > 0 and set(f.answers) == {"13/99"}),
        Row(area, "06s that left for them / 01s answered",
            f"{f.delivered_during} / {dict(f.registrations)}",
            f.delivered_during == 0 and set(f.registrations) == {"13/99"}),
        Row(area, "ping round trip during the fault (max / median)",
            f"{_ms(f.ping_max)} / {_ms(f.ping_median)} over {len(f.pings)} pings",
            f.ping_max < PING_BOUND),
        Row(area, "logins during the fault (slowest)",
            f"{len(f.logins)} ({_ms(max(f.logins, default=0.0))})", bool(f.logins)),
        Row(area, "log lines about the failed writes", f"{len(f.log_lines)}",
            len(f.log_lines) >= answered),
        Row(area, "after the fault: same keys accepted / missing / twice / integrity",
            f"{f.resent_accepted} of {f.resent} / {f.missing} / {f.twice} / {f.integrity}",
            f.resent_accepted == f.resent and f.missing == f.twice == 0
            and f.integrity == "ok"),
    ]


def disk_rows(f: FaultFigures) -> list[Row]:
    rows = storage_rows("disk full", f"1 MiB tmpfs filled, {DISK_SENDS} sends", f)
    named = any("full" in line for line in f.log_lines)
    cause = f.log_lines[0].split("13/99: ", 1)[-1] if f.log_lines else "-"
    rows.append(Row("disk full", "the log names the cause", cause[:50], named))
    rows.append(Row("disk full", "12 sent during the fault answered with",
                    ", ".join(f.receipt_answers) or "nothing", not f.receipt_answers))
    return rows


def _guarded(area: str, make: Callable[[], list[Row]]) -> list[Row]:
    try:
        return make()
    except Exception as exc:
        traceback.print_exc()
        return [Row(area, "the run itself", f"crashed: {exc!r}"[:80], False)]


def run() -> list[Row]:
    seed = int(os.environ.get("FAULTS_SEED", random.randrange(1 << 30)))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="soak-faults-") as tmp:
        folder = Path(tmp)
        for name in ("kill", "burst", "lock", "disk"):
            (folder / name).mkdir()
        size = KillRunSize(KILL_RUN.clients, KILL_RUN.kills, KILL_RUN.per_round, seed=seed)
        rows += _guarded("kill -9 server", lambda: kill_rows(kill_run(folder / "kill", size)))
        rows += _guarded("kill -9 client", lambda: burst_rows(
            burst_kill_run(folder / "burst", BURST, BURST_KILLS, seed)))
        rows += _guarded("db locked", lambda: storage_rows(
            "db locked", f"BEGIN EXCLUSIVE held {LOCK_SECONDS:g} s by another process",
            lock_run(folder / "lock", LOCK_SECONDS)))
        try:
            figures = full_disk_run(folder / "disk", DISK_SENDS)
        except DiskUnavailable as exc:
            rows.append(Row("disk full", "skipped: no tmpfs could be mounted", str(exc)[:60],
                            True))
        except Exception as exc:
            traceback.print_exc()
            rows.append(Row("disk full", "the run itself", f"crashed: {exc!r}"[:80], False))
        else:
            rows += disk_rows(figures)
    return rows
