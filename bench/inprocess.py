"""The Service's cost per message in this process, without sockets: CPU time, or instructions.

`python -m bench.inprocess [--code DIR] [--mode one|group] [--messages N]` runs
the server's Service with real Sessions and a Store on SQLite (`--sync full`)
in a temporary folder: USERS users (or groups of 9), each 05 and 12 decoded
from its line and handed to Service.handle as the loop does, BATCH messages a
batch, their 12s in the next batch and the 07s confirmed in the one after.
It prints the CPU microseconds per complete 1:1 message, or per group
delivery (06 + 12).

On a machine shared with other work the CPU time of one same tree moves by
10% or more between runs. `--callgrind` instead runs the measurement twice
under valgrind (N and 3N messages) and prints the instructions per message of
the difference, which leaves out start-up and moves by a few tenths of a
per cent between runs (bench/README.md, "Session 7").

`--code DIR` measures another checkout's server (its interzap_server and
shared come first on sys.path).
"""

import argparse
import gc
import inspect
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BATCH = 256
"""Messages per batch: about what a loop iteration holds under full load."""
TS = 1_700_000_000
GROUP = 9


class Line:
    """A connection as the Service sees it: what it was sent, the entries to confirm."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.entries: list[int] = []
        self.backlog = 0

    def write(self, data: bytes, entry: int | None = None) -> None:
        self.sent.append(data)
        if entry is not None:
            self.entries.append(entry)

    def close_when_flushed(self) -> None:
        pass

    def strike(self) -> None:
        pass


def _frame(code: int, *fields: object) -> bytes:
    """A 05 or a 12 of the plan, formatted here rather than by the measured code's encode():
    under --callgrind the plan's making is counted too (N against 3N messages), and it
    must cost the same for every tree measured (it was a fifth of a 1:1 message's
    instructions with encode(), and moved with the codec)."""
    return b"%02d%s\n" % (code, "".join(map(str, fields)).encode())


def measure(mode: str, messages: int, users: int) -> float:
    """CPU us per complete message (1:1) or per delivery (group), of the code imported."""
    from interzap_server.service import Service
    from interzap_server.sessions import Sessions
    from interzap_server.storage import open_store
    from shared import events as ev
    from shared.codec import Side, decode, encode

    store = open_store(str(Path(tempfile.mkdtemp()) / "store.db"))
    service = Service(store, Sessions(store))
    with_line = "line" in inspect.signature(service.handle).parameters  # before session 5

    def handle(link: Line, frame: bytes) -> None:
        line = frame.rstrip(b"\n")
        item = decode(line, Side.CLIENT)
        if with_line:
            service.handle(link, item, line)  # type: ignore[arg-type]
        else:
            service.handle(link, item)  # type: ignore[arg-type]

    def answer(link: Line, frame: bytes, now: float) -> Any:
        with service.batch(now):
            handle(link, frame)
        service.settle()
        service.top_up()
        return decode(link.sent[-1].rstrip(b"\n"), Side.SERVER)

    lines = [Line() for _ in range(users)]
    for link in lines:
        service.connect(link)  # type: ignore[arg-type]
    ids = [answer(link, encode(ev.Register()), 0.0).user for link in lines]
    groups = []
    if mode == "group":
        for first in range(0, users - GROUP + 1, GROUP):
            members = list(range(first, first + GROUP))
            created = answer(lines[first], encode(ev.CreateGroup(
                ids[first], TS + first, tuple(ids[m] for m in members[1:]))), 0.5)
            groups.append((created.group, members))
    for link in lines:
        link.sent.clear()
        link.entries.clear()

    plan = []  # per batch: the 05s, then the 12s, as (connection, frame)
    for first in range(0, messages, BATCH):
        sends, receipts = [], []
        for i in range(first, min(first + BATCH, messages)):
            if mode == "group":
                group, members = groups[i % len(groups)]
                src = members[(i // len(groups)) % GROUP]
                sends.append((lines[src], _frame(5, ids[src], group, TS + i, "hello, group")))
                receipts += [(lines[m], _frame(12, ids[src], group, TS + i))
                             for m in members if m != src]
            else:
                src, dst = i % users, (i + 1) % users
                sends.append((lines[src], _frame(5, ids[src], ids[dst], TS + i, "hello")))
                receipts.append((lines[dst], _frame(12, ids[src], ids[dst], TS + i)))
        plan.append((sends, receipts))

    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000)  # as the server's collections between iterations (heap.py)
    now, units = 1.0, 0
    started = time.process_time()
    for sends, receipts in plan:
        for part in (sends, receipts):
            now += 1
            with service.batch(now):
                for link, frame in part:
                    handle(link, frame)
            service.settle()
        units += len(receipts) if mode == "group" else len(sends)
        now += 1
        confirmed = [entry for link in lines for entry in link.entries]
        for link in lines:
            link.sent.clear()
            link.entries.clear()
        with service.batch(now):
            service.forget_confirmed(confirmed)
        service.settle()
    return (time.process_time() - started) / units * 1e6


def instructions(args: argparse.Namespace) -> float:
    """Instructions per message under callgrind: the difference of N and 3N messages."""
    counts = []
    for messages in (args.messages, 3 * args.messages):
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                   sys.executable, "-m", "bench.inprocess", "--mode", args.mode,
                   "--messages", str(messages), "--users", str(args.users)]
        if args.code:
            command += ["--code", args.code]
        done = subprocess.run(command, capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[1])
        counts.append(int(re.findall(r"Collected : (\d+)", done.stderr)[-1]))
    per = GROUP - 1 if args.mode == "group" else 1
    return (counts[1] - counts[0]) / (2 * args.messages * per)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", help="another checkout's server")
    parser.add_argument("--mode", choices=("one", "group"), default="one")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100, help="1:1 users (groups: 99)")
    parser.add_argument("--callgrind", action="store_true",
                        help="instructions per message instead of CPU time (needs valgrind)")
    args = parser.parse_args()
    unit = "delivery (06 + 12)" if args.mode == "group" else "complete message"
    if args.callgrind:
        print(f"{instructions(args):,.0f} instructions per {unit}")
        return 0
    if args.code:
        sys.path[:0] = [args.code]
    users = GROUP * 11 if args.mode == "group" else args.users
    print(f"{measure(args.mode, args.messages, users):.2f} us of CPU per {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
