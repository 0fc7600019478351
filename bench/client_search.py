"""Client search: /search over a history of N messages (issue 18), in process, no server.

A history of N messages (a few words each from a vocabulary with accents and
other scripts, across 100 chats and 5 groups) is written once through the
client's own History, then each run copies it, opens it as a client start does,
and times interzap_client.search.Finder as /search uses it: folding the whole
history (Finder.prepare, which the client runs in the background once an
account is loaded), the first search after it, then every query of QUERIES
REPEATS times ("warm": only what arrived since is folded), p50 and p99 over all
of them; and, for the worst case, a search on a Finder that folded nothing yet.
One message arrives between two rounds of queries, as in a live client. The
memory the folded copy takes is measured once, with tracemalloc, outside the
timed runs. If the client's search module is missing, the scenario
says so instead of failing the whole benchmark.
"""

import asyncio
import random
import shutil
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report import Figure, percentile

ME = "Client-000001"
PEERS = 100
GROUPS = 5
REPEATS = 20
QUERIES = ("meeting", "Café", "ZURICH budget", "see you tomorrow", "naïve report plan",
           "xylophone", "message 4242", "Ελλάδα", "the")
"""One common word, accents either way, several words, nothing found, a number, Greek."""
VOCABULARY = ("hello world meeting tomorrow lunch coffee report budget plan thanks see you "
              "later the a is at on in for with and or but not we they it this that what when "
              "where café Zürich naïve São Paulo crème brûlée Ελλάδα Москва 東京 😀 señor garçon "
              "façade déjà vu résumé über straße OK ok yes no maybe tonight weekend monday friday")
"""The words messages are made of: a third of them with accents or in other scripts."""


def _api() -> tuple[Any, Any, Any] | str:
    """(History, State, Finder), or why they cannot be used."""
    try:
        from interzap_client.history import History
        from interzap_client.search import Finder
        from interzap_client.state import State
    except ImportError as exc:
        return f"interzap_client.search is not importable: {exc}"
    return History, State, Finder


def _text(rng: random.Random, words: list[str], i: int) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(3, 16))) + f" message {i}"


def _peer(i: int) -> str:
    if i % 10 == 0:
        return f"Group-{1 + i // 10 % GROUPS:07d}"
    return f"Client-{2 + i % PEERS:06d}"


def _fill(history: Any, count: int) -> None:
    rng, words = random.Random(18), VOCABULARY.split(" ")
    for i in range(count):
        peer = _peer(i)
        src, dst = (ME, peer) if i % 3 == 0 and peer.startswith("Client") else (
            f"Client-{2 + i % PEERS:06d}", peer if peer.startswith("Group") else ME)
        history.apply("msg", src=src, dst=dst, ts=1_700_000_000 + i, text=_text(rng, words, i),
                      tick=1 if src == ME else None, at=1_700_000_000 + i)


def _warm(finder: Any, history: Any, round_: int) -> list[int]:
    """Nanoseconds per search, every query once, after one new message."""
    history.apply("msg", src="Client-000002", dst=ME, ts=1_800_000_000 + round_,
                  text=f"a new message {round_} about the budget meeting")
    times = []
    for query in QUERIES:
        start = time.perf_counter_ns()
        finder.search(history.state, query)
        times.append(time.perf_counter_ns() - start)
    return times


def _memory(api: tuple[Any, Any, Any], folder: Path) -> float:
    """MB the folded copy takes (tracemalloc: what the first search allocates and keeps)."""
    history_cls, state_cls, finder_cls = api
    history = history_cls(folder, state_cls(ME), readonly=True)
    tracemalloc.start()
    try:
        finder = finder_cls()
        found = finder.search(history.state, "xylophone")
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del found, finder
    return kept / 1e6


def search(tmp: Path, runs: int, big: int) -> list[Figure]:
    scenario = f"client search, {big:,} messages"
    api = _api()
    if isinstance(api, str):
        return [Figure(scenario, "search, warm (p99)", "ms", note=api)]
    history_cls, state_cls, _ = api
    template = tmp / "search-big"
    template.mkdir()
    filler = history_cls(template, state_cls(ME))
    _fill(filler, big)
    filler.close()
    runs_done = [_run(api, template, tmp / f"search-big-{run}") for run in range(runs)]
    load_s, unfolded_ms, fold_ms, first_ms, p50_ms, p99_ms = (list(v) for v in zip(*runs_done,
                                                                                   strict=True))
    memory = _memory(api, template)
    note = (f"{len(QUERIES)} queries x {REPEATS} rounds per run, one new message before each "
            f"round; the folded copy holds {memory:.1f} MB")
    under: dict[str, Any] = {"target": "under 200 ms", "rule": ("max", 200.0)}
    return [
        Figure(scenario, f"open a history of {big:,} messages", "s", load_s),
        Figure(scenario, "fold it for search (in the background, after opening)", "ms",
               fold_ms),
        Figure(scenario, "first search, once folded", "ms", first_ms, **under),
        Figure(scenario, "search, warm (p50)", "ms", p50_ms, note=note),
        Figure(scenario, "search, warm (p99)", "ms", p99_ms, **under),
        Figure(scenario, "a search before the fold (it folds everything)", "ms", unfolded_ms),
        Figure(scenario, "memory of the folded copy", "MB", [memory]),
    ]


def _run(api: tuple[Any, Any, Any], template: Path, folder: Path) -> tuple[float, ...]:
    """One run on a copy of the big history: (open s, search before the fold ms, fold ms,
    first search ms, warm p50 ms, warm p99 ms)."""
    history_cls, state_cls, finder_cls = api
    shutil.copytree(template, folder)
    started = time.perf_counter()
    history = history_cls(folder, state_cls(ME))
    load = time.perf_counter() - started
    unfolded = _timed(lambda: finder_cls().search(history.state, QUERIES[0]))
    finder = finder_cls()
    fold = _timed(lambda: asyncio.run(finder.prepare(history.state)))
    first = _timed(lambda: finder.search(history.state, QUERIES[1]))
    times = sorted(t for round_ in range(REPEATS) for t in _warm(finder, history, round_))
    history.close()
    return (load, unfolded, fold, first, percentile(times, 50) / 1e6,
            percentile(times, 99) / 1e6)


def _timed(work: Callable[[], object]) -> float:
    """Milliseconds `work` took."""
    start = time.perf_counter_ns()
    work()
    return (time.perf_counter_ns() - start) / 1e6
