"""Accounts on disk: where the data dir is, and each account's id and secret token.

Layout of the data dir (default $INTERZAP_HOME, else ~/.local/share/interzap):

    <data dir>/<user id>/account.json    {"id": ..., "token": ...}, mode 0600
    <data dir>/<user id>/history.jsonl   the journal of history.py, mode 0600
    <data dir>/<user id>/lock            locked by the one client using the account
    <data dir>/<user id>/lock.pid        instead, where the system cannot lock a file

An id is checked with shared.ids before it becomes part of a path, so a name
like "../x" can never leave the data dir. Refuses to know about the network,
the chat state or the user interface.
"""

from __future__ import annotations

import atexit
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from shared.ids import is_user_id

ACCOUNT_FILE = "account.json"
LOCK_FILE = "lock"
PID_LOCK_FILE = "lock.pid"
_TOKEN_CHARS = frozenset("0123456789abcdef")
POSIX_MODES = os.name == "posix"
"""Whether files have Unix permission bits. Windows keeps access in ACLs (a file in the
user's profile is private by default) and reports every writable file as 0666, so
there the mode is neither set nor checked."""


class ProfileError(Exception):
    """A bad id, a missing or unreadable account: the message says which, for a person."""


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir, else $INTERZAP_HOME, else ~/.local/share/interzap."""
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("INTERZAP_HOME")
    if home:
        return Path(home).expanduser()
    return Path.home() / ".local" / "share" / "interzap"


def check_id(ident: str) -> str:
    """`ident` if it is a user id like Client-000001; a ProfileError otherwise."""
    if not is_user_id(ident):
        raise ProfileError(f"{ident!r} is not a user id like Client-000001")
    return ident


def check_token(token: str) -> str:
    if len(token) != 32 or not set(token) <= _TOKEN_CHARS:
        raise ProfileError("a token is 32 lowercase hex characters")
    return token


def account_dir(root: Path, ident: str) -> Path:
    """The folder of one account, created private (0700) if missing."""
    folder = root / check_id(ident)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def list_accounts(root: Path) -> list[str]:
    """Ids with stored credentials, sorted; anything else in the folder is ignored."""
    if not root.is_dir():
        return []
    return sorted(
        entry.name for entry in root.iterdir()
        if is_user_id(entry.name) and (entry / ACCOUNT_FILE).is_file()
    )


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by the owner only (mode 0600).

    The temporary file is created 0600 before any byte is in it, so the secret
    is never readable by others, not even for a moment.
    """
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if POSIX_MODES:
            os.fchmod(fd, 0o600)  # an old tmp file may have had other bits
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    sync_dir(path.parent)


def sync_dir(folder: Path) -> None:
    """fsync a folder so a rename in it survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_account(root: Path, ident: str, token: str) -> Path:
    """Store id and token (after 02, or a login with a token given by hand)."""
    check_token(token)
    path = account_dir(root, ident) / ACCOUNT_FILE
    write_private(path, json.dumps({"id": ident, "token": token}).encode() + b"\n")
    return path


def load_token(root: Path, ident: str) -> str:
    """The stored token of `ident`; ProfileError if there is none."""
    path = root / check_id(ident) / ACCOUNT_FILE
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if POSIX_MODES and mode & 0o077:
            raise ProfileError(f"refusing {path}: others may read it (mode {mode:04o}); "
                               f"the token inside may be known; run: chmod 600 {path}")
        record = json.loads(path.read_text(encoding="utf-8"))
        return check_token(str(record["token"]))
    except FileNotFoundError:
        raise ProfileError(f"no stored account {ident} in {root}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from None


def choose_account(root: Path, wanted: str | None) -> str | None:
    """--account if given (validated), else the only stored account, else None."""
    if wanted:
        return check_id(wanted)
    accounts = list_accounts(root)
    return accounts[0] if len(accounts) == 1 else None


def _descriptor_lock() -> Callable[[int], bool] | None:
    """How this system locks an open file without waiting (True: locked, False: another
    process holds it), a lock the OS drops when the descriptor is closed or the process
    dies: flock on POSIX, msvcrt.locking on Windows; None without either."""
    if sys.platform == "win32":
        import msvcrt

        def lock_first_byte(fd: int) -> bool:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            except OSError:
                return False
            return True

        return lock_first_byte
    try:
        import fcntl
    except ImportError:
        return None

    def flock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    return flock


_LOCK_DESCRIPTOR = _descriptor_lock()


def _in_use(folder: Path, hint: str = "") -> ProfileError:
    return ProfileError(f"{folder.name} is in use by another interzap-client "
                        f"(one client per account and data dir){hint}")


def lock_account(folder: Path) -> int:
    """Take the account's lock (held until the returned descriptor is closed).

    ProfileError if another client holds it. The OS drops the lock when a
    process dies, so a killed client never leaves a stale lock. Without a way
    to lock a file, see _lock_by_pid_file.
    """
    if _LOCK_DESCRIPTOR is None:
        return _lock_by_pid_file(folder)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    if not _LOCK_DESCRIPTOR(fd):
        os.close(fd)
        raise _in_use(folder)
    return fd


def _lock_by_pid_file(folder: Path) -> int:
    """The lock where the system has no file lock: lock.pid, created exclusively, holding
    this process's id.

    Unlike a file lock it outlives the returned descriptor: it lasts until this
    process exits (and removes it), and once the process is gone, the next client
    takes it over. A file naming this very process is its own: one process is
    one client. (Never reached on Windows, where os.kill(pid, 0) would kill.)
    """
    path = folder / PID_LOCK_FILE
    for _ in range(3):  # a stale file removed, then created again by us or a rival
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            owner = _pid_in(path)
            if owner == os.getpid():
                return os.open(path, os.O_RDONLY)
            if owner is None and not path.exists():
                continue  # its client just left
            if owner is None or _alive(owner):  # no pid yet: a client starting now
                raise _in_use(folder, f"; if none runs, remove {path}") from None
            path.unlink(missing_ok=True)  # left by a client that is gone
            continue
        os.write(fd, b"%d\n" % os.getpid())
        atexit.register(_remove_if_ours, path)
        return fd
    raise _in_use(folder, f"; if none runs, remove {path}")


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether it exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    return True


def _remove_if_ours(path: Path) -> None:
    if _pid_in(path) == os.getpid():
        path.unlink(missing_ok=True)
