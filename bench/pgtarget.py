"""PostgreSQL under the bench: a fresh database per measured run, and the CPU its server used.

`--postgres` starts a throwaway cluster (pgcluster.py) with fsync on, as a
production server would run; `--db URL` uses a running server, whose role must
be allowed to CREATE DATABASE. Either way each run gets `CREATE DATABASE
bench_<n>`, dropped after it, and the server under test makes its own tables.

PostgreSQL's own CPU is the sum of utime + stime (and of the reaped children's
times) of the postmaster and its children, read from /proc before and after the
measured window: the backend serving the server's connection, the WAL writer,
the checkpointer. It is known only when the postmaster runs on this machine and
its /proc entries are readable; otherwise the figure is left out.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import psycopg2.extensions

from bench.pgcluster import INSTALL_HINT, Cluster, find_bindir

_TICKS = os.sysconf("SC_CLK_TCK")


class Postgres:
    """Databases for the runs of one bench invocation; close() drops what is left."""

    def __init__(self, url: str | None) -> None:
        self._cluster: Cluster | None = None
        if url is None:
            bindir = find_bindir()
            if bindir is None:
                raise SystemExit(INSTALL_HINT)
            self._cluster = Cluster.start(bindir, durable=True)
            url = self._cluster.url("postgres")
        self._url = urlparse(url)
        self._admin = psycopg2.connect(url)
        self._admin.autocommit = True  # CREATE and DROP DATABASE refuse a transaction
        self._serial = itertools.count(1)
        self._made: list[str] = []
        self.postmaster = self._postmaster_pid()

    def fresh(self) -> str:
        """A new, empty database; its URL, as the server's --db takes it."""
        name = f"bench_{os.getpid()}_{next(self._serial)}"
        with self._admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        self._made.append(name)
        return urlunparse(self._url._replace(path=f"/{name}"))

    def drop_all(self) -> None:
        """Drop every database made so far (their servers have stopped)."""
        with self._admin.cursor() as cursor:
            for name in self._made:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._made.clear()

    def cpu_seconds(self) -> float | None:
        """CPU used so far by the postmaster and its children, or None if not readable."""
        if self.postmaster is None:
            return None
        total = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            fields = _stat(entry / "stat")
            if fields is not None and (int(entry.name) == self.postmaster
                                       or int(fields[1]) == self.postmaster):
                # utime, stime, and the times of reaped children (proc(5) fields 14-17)
                total += sum(int(value) for value in fields[11:15]) / _TICKS
        return total

    def close(self) -> None:
        try:
            self.drop_all()
        finally:
            self._admin.close()
            if self._cluster is not None:
                self._cluster.stop()

    def _postmaster_pid(self) -> int | None:
        """The postmaster: the parent of the backend serving our own connection."""
        with self._admin.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
        fields = None if row is None else _stat(Path(f"/proc/{row[0]}/stat"))
        return None if fields is None else int(fields[1])


def _stat(path: Path) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name, or None if it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return raw[raw.rindex(b")") + 2:].split()
