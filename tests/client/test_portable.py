"""Windows as far as Linux can show it: the server and the client run where the Unix-only
modules `fcntl` and `resource` cannot be imported (README, "Platforms").

Theory of operation: the subprocesses get a PYTHONPATH folder whose sitecustomize.py,
imported by every interpreter at start, puts a finder first on sys.meta_path that
refuses those two names. The client then locks its account with lock.pid (msvcrt,
Windows' own lock, cannot be imported on Linux either), and the server leaves the
descriptor limit alone. Nothing sleeps: each step waits for a line or an exit.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clientkit import ClientProcess, register, run_script
from wire import ServerFactory, ServerProcess

from interzap_client import profile
from interzap_server.cli import raise_fd_limit

UNIX_ONLY = ("fcntl", "resource")
REFUSER = f'''"""Test harness: refuse to import {", ".join(UNIX_ONLY)}, as on Windows."""
import sys


class RefuseUnixOnly:
    def find_spec(self, name, path=None, target=None):
        if name in {UNIX_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (refused by the test)",
                                      name=name)
        return None


sys.meta_path.insert(0, RefuseUnixOnly())
for name in {UNIX_ONLY!r}:
    sys.modules.pop(name, None)
'''
"""sitecustomize.py for the subprocesses."""
NO_FD_LIMIT = "no resource module: the file descriptor limit is left as it is"


@pytest.fixture
def without_unix_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocesses started from now on cannot import fcntl or resource."""
    folder = tmp_path / "refuse-unix-only"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(REFUSER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    for name in UNIX_ONLY:  # the harness itself works, or the tests below prove nothing
        check = subprocess.run([sys.executable, "-c", f"import {name}"],
                               capture_output=True, text=True, timeout=20)
        assert check.returncode == 1 and "refused by the test" in check.stderr, check


@pytest.fixture
def bare_server(without_unix_modules: None, server_factory: ServerFactory) -> ServerProcess:
    """A server (at debug level) that could not import resource."""
    server = server_factory.start()
    assert NO_FD_LIMIT in server.log_tail(), server.log_tail()
    return server


def test_portable_register_send_and_exit_without_unix_modules(
        bare_server: ServerProcess, tmp_path: Path) -> None:
    """Without fcntl and resource: two clients register, one sends, the other receives,
    both exit 0 and leave no lock behind; the server stops cleanly on SIGTERM."""
    data = tmp_path / "data"
    alice, bob = register(bare_server.port, data), register(bare_server.port, data)
    status, events, err = run_script(
        bare_server.port, data, f"/send {bob} sent without fcntl\n/wait accepted {bob}\n",
        "--account", alice)
    assert status == 0, (events, err)
    status, events, err = run_script(bare_server.port, data, "/wait received 1\n",
                                     "--account", bob)
    assert status == 0, (events, err)
    received = [e for e in events if e["event"] == "message"]
    assert [(e["author"], e["text"]) for e in received] == [(alice, "sent without fcntl")]
    for ident in (alice, bob):
        assert {entry.name for entry in (data / ident).iterdir()} == {
            "account.json", "history.jsonl"}  # neither `lock` (flock) nor `lock.pid` is left
    assert bare_server.terminate() == 0


def test_portable_one_client_per_account_without_fcntl(
        bare_server: ServerProcess, tmp_path: Path, clients: list[ClientProcess]) -> None:
    """Without fcntl the account is still locked: while one client uses it, a second is
    refused (an error, exit 1); once the first has exited, the account is free again."""
    data = tmp_path / "data"
    alice = register(bare_server.port, data)
    first = ClientProcess(bare_server.port, data, "--account", alice)
    clients.append(first)
    first.expect("logged_in")
    assert (data / alice / profile.PID_LOCK_FILE).read_text() == f"{first.proc.pid}\n"
    status, events, err = run_script(bare_server.port, data, "", "--account", alice)
    assert status == 1, (events, err)
    assert [e["event"] for e in events] == ["error"]
    assert "in use by another interzap-client" in events[0]["text"], events
    assert first.finish() == 0
    status, events, err = run_script(bare_server.port, data, "", "--account", alice)
    assert status == 0, (events, err)


# -- in process -------------------------------------------------------------------------


def test_pid_lock_takes_over_from_a_client_that_is_gone(tmp_path: Path) -> None:
    """A lock.pid naming a process that no longer exists is taken over."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True, timeout=20)
    (tmp_path / profile.PID_LOCK_FILE).write_text(gone.stdout)
    fd = profile._lock_by_pid_file(tmp_path)
    os.close(fd)
    assert (tmp_path / profile.PID_LOCK_FILE).read_text() == f"{os.getpid()}\n"
    profile._remove_if_ours(tmp_path / profile.PID_LOCK_FILE)  # what atexit does
    assert not (tmp_path / profile.PID_LOCK_FILE).exists()


def test_pid_lock_is_this_process_s_own_and_refuses_another_living_one(
        tmp_path: Path) -> None:
    """A lock.pid naming this process is its own; one naming another living process
    (or no process yet: a client starting) refuses, naming the file to remove."""
    os.close(profile._lock_by_pid_file(tmp_path))
    os.close(profile._lock_by_pid_file(tmp_path))  # again, after the History closed it
    for owner in (f"{os.getppid()}\n", ""):
        (tmp_path / profile.PID_LOCK_FILE).write_text(owner)
        with pytest.raises(profile.ProfileError, match="in use by another interzap-client"):
            profile._lock_by_pid_file(tmp_path)


def test_fd_limit_left_alone_without_resource(monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """Without the resource module the server starts anyway, saying so once at debug."""
    monkeypatch.setitem(sys.modules, "resource", None)  # `import resource` raises
    with caplog.at_level(logging.DEBUG, logger="interzap_server"):
        raise_fd_limit(100)
    assert [record.getMessage() for record in caplog.records] == [NO_FD_LIMIT]
