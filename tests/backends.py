"""The stores a test server runs on, SQLite and PostgreSQL, behind one small interface.

A Backend makes a fresh, empty database for a server and names it as the
server's --db takes it (an SQLite path, or a postgresql:// URL); the server
creates its own tables, as it does in production. This module refuses to know
the store's models or the protocol.

Tests check what the server keeps through the protocol, the operator's queries
(storage/admin.py) or the store's own API; none opens the database behind the
store's back. `files()` names the bytes a test may scan (that no token is stored).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from postgres import Cluster

NAMES = ("sqlite", "postgresql")
"""Every backend, in the order the tests run on them."""


class Backend(ABC):
    """Where a test server keeps its data."""

    name: ClassVar[str]

    @abstractmethod
    def create(self, folder: Path) -> str:
        """A new, empty database (files, if any, in `folder`): the server's --db."""

    @abstractmethod
    def drop(self, db: str) -> None:
        """Give the database back once every server on it has stopped."""

    @abstractmethod
    def files(self, db: str) -> list[Path]:
        """Every file that may hold bytes of the database, as they are now."""

    def log_lines(self, db: str) -> list[str]:
        """What the database engine logged about this database (to show when a test
        failed); an SQLite file has no log of its own."""
        return []


class Sqlite(Backend):
    """A file in the test's temporary folder (removed with the folder)."""

    name = "sqlite"

    def create(self, folder: Path) -> str:
        path = folder / "interzap.db"
        serial = 1
        while path.exists():  # a second database in the same folder
            serial += 1
            path = folder / f"interzap-{serial}.db"
        return str(path)

    def drop(self, db: str) -> None:
        pass

    def files(self, db: str) -> list[Path]:
        path = Path(db)
        return sorted(path.parent.glob(path.name + "*"))  # the file, its -wal and -shm


class Postgres(Backend):
    """A database of the session's throwaway cluster (tests/postgres.py)."""

    name = "postgresql"

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def create(self, folder: Path) -> str:
        return self.cluster.create_database()

    def drop(self, db: str) -> None:
        self.cluster.drop_database(db)

    def files(self, db: str) -> list[Path]:
        return self.cluster.database_files(db)

    def log_lines(self, db: str) -> list[str]:
        return self.cluster.log_lines(db)


SQLITE = Sqlite()
"""The default of every harness that is not told otherwise (soak/, bench/)."""
