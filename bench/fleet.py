"""Generator processes: split the clients over workers, step them through login and go.

The parent (scenarios.py) decides what to measure between the steps: it reads
the server's CPU time and memory before "login", between "ready" and "go", and
after the last result. Workers are forked processes of ours, each running one
Driver (load.py); they are joined, and terminated by their pid if they do not
finish, whatever happens. Registration of users runs in the parent itself.
"""

import contextlib
import multiprocessing as mp
import signal
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any

from bench.launch import raise_fd_limit
from bench.load import Driver
from bench.plans import Account, ClientPlan, Job, Stats

_CTX = mp.get_context("fork")
SLACK = 30.0
"""Seconds the parent waits for a worker beyond the job's own timeout."""


@dataclass(frozen=True, slots=True)
class Setup:
    """What the login step reported: seconds per worker, and what it counted."""

    seconds: float
    """The slowest worker's login time."""
    logged_in: int
    no_group: int


def register(host: str, port: int, count: int, parallel: int = 256,
             timeout: float = 300.0) -> list[Account]:
    """Register `count` new users (01 -> 02), one connection each, closed afterwards."""
    job = Job(host, port, tuple(ClientPlan() for _ in range(count)), mode="register",
              parallel=parallel, timeout=timeout)
    driver = Driver(job)
    try:
        driver.log_in_all()
        accounts = [Account(c.user, c.token) for c in driver.clients if c.logged_in]
    finally:
        driver.close()
    if len(accounts) != count:
        raise RuntimeError(f"registered {len(accounts)} of {count} users: {driver.stats.errors}")
    return accounts


def split(plans: Sequence[ClientPlan], workers: int, align: int = 1) -> list[tuple[ClientPlan,
                                                                                  ...]]:
    """Contiguous slices, each a multiple of `align` clients long (a group stays in one worker)."""
    blocks = -(-len(plans) // align)
    per = -(-blocks // max(1, workers)) * align
    return [tuple(plans[i:i + per]) for i in range(0, len(plans), per)]


def _worker(job: Job, control: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise_fd_limit()
    driver = Driver(job)
    try:
        if control.recv() != "login":
            return
        seconds = 0.0
        if job.mode != "drain":
            seconds = driver.log_in_all()
            driver.set_up_groups()
        control.send(("ready", seconds, dict(driver.stats.counts)))
        if control.recv() != "go":
            return
        control.send(("result", driver.run()))
        # other workers may still have messages in flight to our clients: keep
        # answering them until the parent says stop (closing now would strand them)
        driver.keep_answering(control.poll)
    except Exception:
        control.send(("error", traceback.format_exc()))
    finally:
        driver.close()
        control.close()


class Fleet:
    """Worker processes for `jobs`; use as a context manager, then login() and go()."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.jobs = list(jobs)
        self._procs: list[Any] = []
        self._pipes: list[Connection] = []

    def __enter__(self) -> "Fleet":
        for job in self.jobs:
            parent, child = _CTX.Pipe()
            proc = _CTX.Process(target=_worker, args=(job, child), daemon=True)
            proc.start()
            child.close()
            self._procs.append(proc)
            self._pipes.append(parent)
        return self

    def __exit__(self, *exc: object) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # that worker is gone already
                pipe.send("stop")
        for proc in self._procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()  # ours, by pid
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for pipe in self._pipes:
            pipe.close()

    def _gather(self, expected: str) -> list[tuple[Any, ...]]:
        answers = []
        for job, pipe in zip(self.jobs, self._pipes, strict=True):
            if not pipe.poll(job.timeout + SLACK):
                raise RuntimeError(f"a generator process gave no {expected} in time")
            answer = pipe.recv()
            if answer[0] == "error":
                raise RuntimeError(f"a generator process failed:\n{answer[1]}")
            answers.append(answer)
        return answers

    def login(self) -> Setup:
        """Every worker connects and logs in its clients (and sets up groups)."""
        for pipe in self._pipes:
            pipe.send("login")
        answers = self._gather("ready")
        return Setup(seconds=max(a[1] for a in answers),
                     logged_in=sum(a[2].get("logged_in", 0) for a in answers),
                     no_group=sum(a[2].get("no_group", 0) for a in answers))

    def go(self) -> Stats:
        """Run the load; returns the merged statistics of every worker."""
        for pipe in self._pipes:
            pipe.send("go")
        total = Stats()
        for answer in self._gather("result"):
            total.merge(answer[1])
        return total


def jobs_for(template: Job, plans: Sequence[ClientPlan], workers: int,
             align: int = 1) -> list[Job]:
    """One job per slice of `plans`, sharing a paced rate out in proportion to its senders."""
    slices = split(plans, workers, align)
    senders = sum(1 for p in plans if p.target) or 1
    return [replace(template, clients=part,
                    rate=template.rate * sum(1 for p in part if p.target) / senders)
            for part in slices]
