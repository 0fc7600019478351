"""Client history: the time to persist one received message, with 0 and with N messages stored.

Runs in this process, no server: it drives interzap_client.history.History the
way the client does on a 06 (core.py `_deliver`): `apply("msg", durable=True,
...)`, one journal append with fsync, before the 12 may be sent. The big
history is written once through the same API (not durable, which is quicker),
then each run reopens it, as a client start does (the load time is reported
too), and persists history_samples new messages one by one into it and into
an empty history, alternately, so that the disk's noise falls on both alike. If the client's
history module is missing or its API changed, the scenario reports that
instead of failing the whole benchmark.
"""

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.report import Figure, percentile

ME = "Client-000001"
PEERS = 100


def _api() -> tuple[Any, Any] | str:
    """(History, State), or why they cannot be used."""
    try:
        from interzap_client.history import History
        from interzap_client.state import State
    except ImportError as exc:
        return f"interzap_client.history is not importable: {exc}"
    if not callable(getattr(History, "apply", None)):
        return "History has no apply()"
    return History, State


def _peer(i: int) -> str:
    return f"Client-{2 + i % PEERS:06d}"


def _fill(history: Any, count: int) -> None:
    for i in range(count):
        history.apply("msg", src=_peer(i), dst=ME, ts=1_700_000_000 + i // PEERS,
                      text=f"old message {i} " + "x" * 40)


def _persist(history: Any, samples: int, first_ts: int) -> list[int]:
    """Nanoseconds per durable append of a new received message."""
    times = []
    for i in range(samples):
        text = f"new message {first_ts + i} " + "y" * 40
        start = time.perf_counter_ns()
        new = history.apply("msg", durable=True, src=_peer(i), dst=ME, ts=first_ts + i, text=text)
        times.append(time.perf_counter_ns() - start)
        if not new:
            raise RuntimeError("a new message was not stored as new")
    return times


def history(tmp: Path, runs: int, big: int, samples: int) -> list[Figure]:
    scenario = f"client history, 0 and {big:,} messages"
    api = _api()
    if isinstance(api, str):
        return [Figure(scenario, "persist one received message", "ms", note=api)]
    history_cls, state_cls = api
    template = tmp / "history-big"
    template.mkdir()
    filler = history_cls(template, state_cls(ME))
    started = time.monotonic()
    _fill(filler, big)
    filler.close()
    fill_seconds = time.monotonic() - started
    empty_ms, big_ms, big_p99, load_s = [], [], [], []
    for run in range(runs):
        folder = tmp / f"history-empty-{run}"
        folder.mkdir()
        fresh = history_cls(folder, state_cls(ME))
        folder = tmp / f"history-big-{run}"
        shutil.copytree(template, folder)
        started = time.monotonic()
        full = history_cls(folder, state_cls(ME))
        load_s.append(time.monotonic() - started)
        if len(full.state.messages) != big:
            raise RuntimeError(f"the reopened history holds {len(full.state.messages)} messages")
        empty_times, big_times = [], []
        for i in range(samples):  # alternate, so that the disk's moods fall on both alike
            empty_times += _persist(fresh, 1, 1_800_000_000 + i)
            big_times += _persist(full, 1, 1_800_000_000 + i)
        fresh.close()
        full.close()
        empty_ms.append(statistics.median(empty_times) / 1e6)
        big_ms.append(statistics.median(big_times) / 1e6)
        big_p99.append(percentile(sorted(big_times), 99) / 1e6)
    ratios = [b / e for b, e in zip(big_ms, empty_ms, strict=True)]
    note = f"{samples} durable appends per run; the big history written in {fill_seconds:.1f} s"
    return [
        Figure(scenario, "persist one message, empty history (median)", "ms", empty_ms,
               note=note),
        Figure(scenario, f"persist one message, {big:,} in history (median)", "ms", big_ms),
        Figure(scenario, f"persist one message, {big:,} in history (p99)", "ms", big_p99),
        Figure(scenario, f"{big:,} in history vs empty", "ratio", ratios,
               target="within 20%", rule=("max", 1.2)),
        Figure(scenario, f"open a history of {big:,} messages", "s", load_s),
    ]
