"""Scripted sessions: commands from a file or a pipe, one event per output line.

A public interface for bots, demos and tests (README, "Scripted sessions"):
lines run in order, each to completion (a /wait blocks the next line), while
every Notice is printed as it happens: as text, or with --json as one JSON
object per line. Blank lines and lines starting with `#` are skipped. At the
end of input the outbox is drained, what was sent is flushed, and the exit
status is 1 if any error was reported. Refuses to know about prompt_toolkit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from interzap_client import commands as cmd
from interzap_client.actions import perform
from interzap_client.notices import Notice, to_json, to_text
from interzap_client.profile import ProfileError
from interzap_client.session import Session


async def file_lines(path: str) -> AsyncIterator[str]:
    """The lines of a script file (read at once: files are not pipes)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for line in text.splitlines():
        yield line


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from stdin as they arrive, without blocking the event loop.

    A pipe or a terminal is read through the event loop, so a bot can feed
    commands one at a time while events keep being printed; a regular file
    (`< script.txt`) cannot be watched by the loop, and is simply read.
    """
    if stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode):
        for line in sys.stdin.read().splitlines():
            yield line
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            yield line.decode("utf-8", "replace").rstrip("\r\n")
    finally:
        transport.close()


class Printer:
    """Prints each Notice as one flushed line; stops quietly if the reader went away."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out, self.as_json = out, as_json
        self.broken = False

    def __call__(self, notice: Notice | None) -> None:
        if notice is None or self.broken:
            return
        try:
            self.out.write((to_json(notice) if self.as_json else to_text(notice)) + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.broken = True  # a bot that stopped reading: finish the work silently


async def run(session: Session, lines: AsyncIterator[str], out: TextIO, *, as_json: bool,
              timeout: float, account: str | None) -> int:
    """Run a script to its end; the exit status (0: no error at all)."""
    session.subscribe(Printer(out, as_json))
    network = asyncio.create_task(session.run_network())
    try:
        if account is not None:
            await _log_in(session, account, timeout)
        await _run_lines(session, lines, timeout)
        await _drain(session, timeout)
    finally:
        await session.close()
        network.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await network
    return 1 if session.errors else 0


async def _log_in(session: Session, account: str, timeout: float) -> None:
    """--account: log in before the first line; a failure is reported, the script goes on."""
    try:
        session.start_login(account)
    except ProfileError as exc:
        session.fail(str(exc))
    else:
        await session.answer(timeout)


async def _run_lines(session: Session, lines: AsyncIterator[str], timeout: float) -> None:
    """Each line to its end, in order, until the end of input or /quit."""
    async for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            action = cmd.parse(line)
        except cmd.CommandError as exc:
            session.fail(f"{line}: {exc}")
            continue
        if isinstance(action, cmd.Quit):
            return
        if action is not None:
            await perform(session, action, timeout)


async def _drain(session: Session, timeout: float) -> None:
    """At the end of input: until the outbox is answered (or say why not), then flushed."""
    if not session.can_send and not session.outbox_empty():
        session.fail("not logged in: the outbox is kept and sent by the next run")
    elif not await session.wait_until(session.outbox_empty, timeout):
        session.fail(f"the outbox was not drained within {timeout:g} s; what is left "
                     "is kept and sent by the next run")
    await session.net.drain()
