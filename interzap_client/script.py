"""Scripted sessions: commands from a file or a pipe, one event per output line.

A public interface for bots, demos and tests (README, "Scripted sessions"):
lines run in order, each to completion (a /wait blocks the next line), while
every Notice is printed as it happens: as text, or with --json as one JSON
object per line. Blank lines and lines starting with `#` are skipped. At the
end of input (or with nothing to read: stdin closed, /dev/null) the outbox is
drained, what was sent is flushed, and the exit status is 1 if any error was
reported; with `stay`, the session first goes on until SIGTERM or SIGINT (a
bot that only listens). Refuses to know about prompt_toolkit.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from interzap_client import commands as cmd
from interzap_client import intents
from interzap_client.actions import perform
from interzap_client.notices import Notice, Origin, to_json, to_text
from interzap_client.profile import ProfileError
from interzap_client.session import Session


async def file_lines(path: str) -> AsyncIterator[str]:
    """The lines of a script file (read at once: files are not pipes)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for line in text.splitlines():
        yield line


def watchable(stream: TextIO | None) -> bool:
    """Whether the event loop can watch `stream`: a pipe, a socket or a terminal."""
    try:
        fd = stream.fileno() if stream is not None else -1
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):
        return False  # closed, as a daemon may start us
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from stdin as they arrive, without blocking the event loop.

    A pipe or a terminal is read through the event loop, so a bot can feed
    commands one at a time while events keep being printed. Anything else the
    loop cannot watch (epoll refuses a regular file, `< script.txt`, and
    /dev/null, as under systemd, cron or nohup) is simply read to its end; a
    closed stdin is an empty script.
    """
    if not watchable(sys.stdin):
        for line in _read_all(sys.stdin).splitlines():
            yield line
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while raw := await reader.readline():
            yield raw.decode("utf-8", "replace").rstrip("\r\n")
    finally:
        transport.close()


def _read_all(stream: TextIO | None) -> str:
    """All of a stream the loop cannot watch; "" if there is none or it cannot be read."""
    if stream is None:
        return ""
    try:
        return stream.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


def _line(notice: Notice) -> int:
    return notice.line or 0


class Printer:
    """Prints each Notice as one flushed line; stops quietly if the reader went away.

    Errors come out in the order of the lines they answer: an error about line N
    waits while an entry of an earlier line is on its way (the server's answer to
    it is due within a round trip, and may be an error too; a dropped link ends
    the wait, since nothing is on its way any more). Other events are printed at
    once.
    """

    def __init__(self, out: TextIO, as_json: bool,
                 first_in_flight: Callable[[], int | None] = lambda: None) -> None:
        self.out, self.as_json = out, as_json
        self.broken = False
        self._first_in_flight = first_in_flight  # the earliest line still awaiting an answer
        self._held: list[Notice] = []  # errors waiting for an earlier line's answer, by line

    def __call__(self, notice: Notice | None) -> None:
        if notice is not None and notice.line is not None and (
                self._held or self._must_wait(notice.line)):
            bisect.insort(self._held, notice, key=_line)
        elif notice is not None:
            self._print(notice)
        while self._held and not self._must_wait(_line(self._held[0])):
            self._print(self._held.pop(0))

    def flush(self) -> None:
        """The end: whatever still waits is printed."""
        while self._held:
            self._print(self._held.pop(0))

    def _must_wait(self, line: int) -> bool:
        first = self._first_in_flight()
        return first is not None and first < line

    def _print(self, notice: Notice) -> None:
        if self.broken:
            return
        try:
            self.out.write((to_json(notice) if self.as_json else to_text(notice)) + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.broken = True  # a bot that stopped reading: finish the work silently


async def run(session: Session, lines: AsyncIterator[str], out: TextIO, *, as_json: bool,
              timeout: float, account: str | None, stay: bool = False) -> int:
    """Run a script to its end (and on until a signal with `stay`); the exit status (0: no
    error at all)."""
    printer = Printer(out, as_json, session.outbox.first_line_in_flight)
    session.subscribe(printer)
    network = asyncio.create_task(session.run_network())
    try:
        if account is not None:
            await _log_in(session, account, timeout)
        quit_asked = await _run_lines(session, lines, timeout)
        if stay and not quit_asked:
            await _until_signalled()
        await _drain(session, timeout)
    finally:
        await session.close()
        network.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await network
        printer.flush()
    return 1 if session.errors else 0


async def _log_in(session: Session, account: str, timeout: float) -> None:
    """--account: log in before the first line; a failure is reported, the script goes on."""
    try:
        session.start_login(account)
    except ProfileError as exc:
        session.fail(str(exc))
    else:
        await session.answer(timeout)


async def _run_lines(session: Session, lines: AsyncIterator[str], timeout: float) -> bool:
    """Each line to its end, in order, until the end of input or /quit (True)."""
    number = 0
    async for raw in lines:
        number += 1  # every line counts, blank and comment lines too: as an editor numbers
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        session.origin = Origin(number, line)  # errors about this line name it
        try:
            if await _run_line(session, line, timeout):
                return True
        finally:
            session.origin = None
    return False


async def _run_line(session: Session, line: str, timeout: float) -> bool:
    """One line to its end; True for /quit."""
    try:
        action = cmd.parse(line)
    except cmd.CommandError as exc:
        session.fail(str(exc))
        return False
    if isinstance(action, intents.Quit):
        return True
    if action is not None:
        await perform(session, action, timeout)
    return False


async def _until_signalled() -> None:
    """--stay: the session goes on after the end of input, until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    caught = (signal.SIGTERM, signal.SIGINT)
    for signum in caught:
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still ends it
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in caught:
            loop.remove_signal_handler(signum)


async def _drain(session: Session, timeout: float) -> None:
    """At the end of input: until the outbox is answered (or say why not), then flushed."""
    if not session.can_send and not session.outbox_empty():
        session.fail("the outbox cannot be sent: not logged in")
    elif not await session.wait_until(session.outbox_empty, timeout):
        session.fail(f"the outbox was not drained within {timeout:g} s")
    await session.net.drain()
