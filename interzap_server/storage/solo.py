"""One server per SQLite file: a second one is refused at start.

Nodes on one database learn of each other's entries through PostgreSQL's
LISTEN/NOTIFY (wakeups.py); SQLite has nothing of the kind, so a second server
on the same file would accept messages its users on the first never hear of
until they log in again. The server therefore holds an exclusive lock on a side
file, `<database>.server-lock`, for as long as it runs (flock: the kernel lets
it go when the process dies, even by kill -9). Only the server takes it: other
programs that open the database while the server runs (an admin tool, a
backup, the tests' own readers) are not refused.

Knows file paths and locks; knows no SQL.
"""

import os
from urllib.parse import urlparse

from interzap_server.storage.failures import StorageError

try:
    import fcntl
except ImportError:  # Windows: no flock; a second server is not detected there
    fcntl = None  # type: ignore[assignment]

SUFFIX = ".server-lock"


class AlreadyServed(StorageError):
    """Another server process holds the SQLite file."""


def sqlite_path(url: str) -> str | None:
    """The file of an SQLite --db (a path or sqlite:///path), or None (another database,
    or SQLite in memory)."""
    if "://" not in url:
        path = url
    elif urlparse(url).scheme.startswith("sqlite"):
        path = urlparse(url).path
    else:
        return None
    return None if path in ("", ":memory:", "/:memory:") else os.path.abspath(path)


def claim(url: str) -> int | None:
    """Lock the side file of an SQLite database for this process's lifetime; its descriptor
    (kept open), or None when there is nothing to lock. AlreadyServed if another server
    holds it."""
    path = sqlite_path(url)
    if path is None or fcntl is None:
        return None
    lock = path + SUFFIX
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"cannot open {lock}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise AlreadyServed(
            f"another server (pid {holder}) already serves {path}: SQLite cannot pass messages "
            f"between server processes, so one SQLite file takes one server; for several "
            f"nodes use PostgreSQL (docs/SCALING.md)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd
