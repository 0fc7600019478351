"""A throwaway PostgreSQL cluster for one test session or one bench run, with a fresh
database per test (or per measured run).

It knows initdb, pg_ctl and psycopg2; it refuses to know the server, the
protocol or the store's tables (the server creates those, as in production).
The tests import it as tests/postgres.py.

Theory of operation. `Cluster.start()` makes a temporary folder, runs initdb
there and starts the cluster with `pg_ctl start -w` (which returns once the
cluster accepts connections) on a free TCP port of 127.0.0.1, its unix socket
in the same folder. Each test asks for a database (`CREATE DATABASE t_<n>`
from template0, a few tens of milliseconds) and gets its URL; it is dropped
WITH (FORCE) when the test is done, so no test sees another's rows. `stop()`
ends the cluster with `pg_ctl stop -m immediate` on its data folder and
removes the folder.

For the fault tests (tests/faults/pgfaults.py) a cluster runs SQL as its
superuser (sql(), terminate(), session()) and can be shut down and started
again on the same port (shut_down(), start_again()); a test that does that
starts a cluster of its own, so that the session's cluster never goes away
under the other tests.

PostgreSQL refuses to run as root: when the tests run as root, initdb and
pg_ctl run as the `postgres` user (through runuser), and the folder is handed
to that user.

fsync and full-page writes are off for the tests (the bench keeps them on:
`Cluster.start(bindir, durable=True)`). The durability the tests check is the
server's: a kill -9 of *our* server process, after which PostgreSQL, still
running, holds every committed transaction in its buffers whatever fsync
says. Only a crash of the cluster itself or of the machine would need fsync,
and the cluster is thrown away unrecovered at the end anyway.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg2
import psycopg2.extensions

PROGRAMS = ("initdb", "pg_ctl", "postgres")
"""The server binaries a cluster needs, all from one folder."""
INSTALL_HINT = ("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: "
                "apt-get install postgresql-15, or put their folder on PATH")
"""The one line a skipped (or, under CI, failed) PostgreSQL test says."""
OWNER = "postgres"
"""The OS user the cluster runs as when the tests run as root."""
SUPERUSER = "postgres"
"""The cluster's database superuser; trusted over 127.0.0.1 and the unix socket only."""
START_TIMEOUT = 60
"""Seconds pg_ctl -w may wait for the cluster to accept connections: a guard only."""
PORT_TRIES = 3
"""Starts on a new free port when another process took the one picked meanwhile."""
SETTINGS = {
    # appended to postgresql.conf, with the unix socket's folder; the port is pg_ctl's -o
    "listen_addresses": "127.0.0.1",
    "fsync": "off",  # safe here: see the module's docstring
    "full_page_writes": "off",
    "log_line_prefix": "%m [%p] %d ",  # the database: one test's lines can be told apart
}


def has_programs(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in PROGRAMS)


def find_bindir() -> Path | None:
    """The folder of initdb, pg_ctl and postgres: from PATH, `pg_config --bindir`, or the
    newest /usr/lib/postgresql/<version>/bin (Debian's layout); None if there is none."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        answer = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                timeout=10, check=True)
        candidates.append(Path(answer.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version(p.parent.name), reverse=True)
    return next((folder for folder in candidates if has_programs(folder)), None)


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _as_owner(command: list[str]) -> list[str]:
    """The command as the cluster's owner: the postgres user when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", OWNER, "--", *command]


def _temporary_folder() -> Path:
    """A new folder the cluster's owner can reach: in the system's temporary folder, or in
    /tmp when that one is closed to other users (running as root)."""
    base = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and not all(os.stat(folder).st_mode & stat.S_IXOTH
                                     for folder in (base, *base.parents)):
        base = Path("/tmp")
    return Path(tempfile.mkdtemp(prefix="interzap-pg-", dir=base))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output."""


class Cluster:
    """One running cluster; make it with start(), end it with stop()."""

    def __init__(self, bindir: Path, folder: Path) -> None:
        self.bindir = bindir
        self.folder = folder
        self.data = folder / "data"
        self.log_path = folder / "postgres.log"
        self.port = 0
        self.durable = False
        self._admin: psycopg2.extensions.connection | None = None
        self._serial = itertools.count(1)

    @classmethod
    def start(cls, bindir: Path, durable: bool = False) -> Cluster:
        """initdb and pg_ctl start in a new temporary folder; the folder is removed if
        anything fails. `durable`: keep fsync on, as a production server would."""
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(OWNER)
            except KeyError:
                raise ClusterError(f"running as root, PostgreSQL needs the {OWNER!r} user, "
                                   "which does not exist: apt-get install postgresql-15") from None
        folder = _temporary_folder()
        cluster = cls(bindir, folder)
        cluster.durable = durable
        try:
            if os.geteuid() == 0:
                os.chown(folder, owner.pw_uid, owner.pw_gid)
            cluster._initdb()
            cluster._pg_ctl_start()
            cluster._admin = cluster._connect("postgres")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, *command: str) -> None:
        done = subprocess.run(_as_owner([str(self.bindir / command[0]), *command[1:]]),
                              cwd=self.folder, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=START_TIMEOUT * 2)
        if done.returncode != 0:
            raise ClusterError(f"{' '.join(command)} exited with {done.returncode}:\n"
                               f"{done.stdout}{done.stderr}{self.log_tail()}")

    def _initdb(self) -> None:
        # --no-sync: nothing here outlives the session (see the module's docstring)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth", "trust",
                  "--encoding", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
        settings = {**SETTINGS, "unix_socket_directories": str(self.folder)}
        if self.durable:
            settings.update(fsync="on", full_page_writes="on")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# a throwaway cluster (bench/pgcluster.py)\n")
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())

    def _pg_ctl_start(self) -> None:
        for attempt in range(PORT_TRIES):
            self.port = _free_port()
            try:
                self._start_on_port()
                return
            except ClusterError:
                # the port picked was free a moment ago; someone may have taken it since
                if attempt == PORT_TRIES - 1 or "could not bind" not in self.log_tail():
                    raise

    def _start_on_port(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log_path),
                  "-w", "-t", str(START_TIMEOUT), "-o", f"-p {self.port}")

    def _connect(self, name: str) -> psycopg2.extensions.connection:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                                      dbname=name)
        connection.autocommit = True  # CREATE and DROP DATABASE refuse a transaction
        return connection

    def url(self, name: str) -> str:
        """The URL a server's --db takes (peewee's db_url), and libpq too."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        assert self._admin is not None, "the cluster is not running"
        name = f"t_{next(self._serial)}"
        with self._admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop it, ending any connection a server left behind."""
        assert self._admin is not None, "the cluster is not running"
        name = _name(url)
        with self._admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    # -- faults ------------------------------------------------------------------------

    def sql(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        """Run one statement as the superuser, on the cluster's own `postgres` database;
        its rows (none if it returns none)."""
        assert self._admin is not None, "the cluster is not running"
        with self._admin.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description is not None else []

    def terminate(self, url: str) -> int:
        """pg_terminate_backend() of every session on the database of `url`; how many."""
        rows = self.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", _name(url))
        return sum(1 for (ended,) in rows if ended)

    def session(self, url: str) -> psycopg2.extensions.connection:
        """A new superuser session on the database of `url`, not in autocommit (its first
        statement opens a transaction: to hold a lock); the caller closes it."""
        return psycopg2.connect(self.url(_name(url)))

    def shut_down(self) -> None:
        """pg_ctl stop -m fast: every session is ended, the data and the port are kept."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def start_again(self) -> None:
        """pg_ctl start on the port it had before shut_down()."""
        self._start_on_port()
        self._admin = self._connect("postgres")

    def database_files(self, url: str) -> list[Path]:
        """Every file that may hold bytes of the database: its own folder under base/,
        after a checkpoint wrote its pages there, and the whole write-ahead log."""
        assert self._admin is not None, "the cluster is not running"
        with self._admin.cursor() as cursor:
            cursor.execute("SELECT oid FROM pg_database WHERE datname = %s", (_name(url),))
            [(oid,)] = cursor.fetchall()
            cursor.execute("CHECKPOINT")
        folders = [self.data / "base" / str(oid), self.data / "pg_wal"]
        return [path for folder in folders for path in folder.iterdir() if path.is_file()]

    def log_lines(self, url: str) -> list[str]:
        """The cluster's log lines about this database (its name follows the pid)."""
        mark = f"] {_name(url)} "
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return [line.rstrip("\n") for line in log if mark in line]
        except OSError:
            return []

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """pg_ctl stop -m immediate on the data folder (SIGKILL to the postmaster if that
        fails), then remove the folder."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        pid = self.postmaster_pid()
        if pid is not None:
            try:
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
            except (ClusterError, subprocess.SubprocessError):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)

    def postmaster_pid(self) -> int | None:
        """The cluster's pid, from postmaster.pid; None if it is not running."""
        try:
            first = (self.data / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return None
        return int(first) if first.strip().isdigit() else None


def _name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    assert name.startswith("t_") and name[2:].isdigit(), f"not a test database: {url}"
    return name
