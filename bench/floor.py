"""The floor: what the parts of one complete 1:1 message cost on their own, in this process.

The 1:1 target asks for a quarter of the bare router's messages per CPU second,
a budget of a few microseconds per complete message (05 -> 16 -> 06 -> 12 -> 07).
These figures say how much of that budget the parts that every implementation
of the protocol must pay take before any socket is touched:

  codec  decoding the two frames a message brings (05, 12) and formatting the
         three it sends (16, 06, 07), with the server's own codec functions;
  store  the server's Store doing a complete message's writes (key, 06 entry,
         12, 07 entry, its confirmation) in batches of BATCH messages per
         transaction, as under full load, with --sync full;
  sqlite the least any durable queue needs, in plain sqlite3: one table, the
         06 entry and the 07 entry each inserted and deleted, executemany in
         batches of BATCH, WAL with synchronous=FULL; no key table, no index
         but the recipient's.

CPU time of this process (time.process_time), microseconds per message.
"""

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from bench.report import Figure
from shared import events as ev
from shared.codec import Side, decode, encode, encode_decoded

BATCH = 512
"""Messages per transaction: about what one loop iteration holds under full load."""
USERS = 100
TS = 1_700_000_000
TEXT = "x" * 40


def _cpu_us(count: int, work: Callable[[], None]) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) / count * 1e6


def _codec(messages: int) -> float:
    send = encode(ev.Send("Client-000001", "Client-000002", TS, TEXT))[:-1]
    receipt = encode(ev.Receipt("Client-000001", "Client-000002", TS))[:-1]

    def work() -> None:
        for _ in range(messages):
            event = decode(send, Side.CLIENT)
            encode_decoded(ev.Accepted, event.dst, event.ts)
            encode_decoded(ev.Deliver, event.src, event.dst, event.ts, event.text)
            ack = decode(receipt, Side.CLIENT)
            encode_decoded(ev.Delivered, ack.dst, ack.ts)

    return _cpu_us(messages, work)


def _store(folder: Path, messages: int) -> float:
    # imported here, after __main__ put the run's snapshot first on sys.path
    from interzap_server.storage import open_store

    store = open_store(str(folder / "store.db"), "full")
    try:
        with store.batch():
            users = [store.register("0" * 64, TS) for _ in range(USERS)]
        frame = encode(ev.Deliver(users[0], users[1], TS, TEXT))
        notice = encode(ev.Delivered(users[1], TS))
        pairs = [(users[i % USERS], users[(i + 1) % USERS]) for i in range(messages)]

        def work() -> None:
            for first in range(0, messages, BATCH):
                batch = range(first, min(first + BATCH, messages))
                with store.batch():
                    for i in batch:
                        src, dst = pairs[i]
                        store.enqueue(dst, frame, store.add_message(src, dst, TS + i, TS))
                with store.batch():
                    entries = []
                    for i in batch:
                        src, dst = pairs[i]
                        store.acknowledge(dst, src, dst, TS + i)
                        entries.append(store.enqueue(src, notice))
                with store.batch():
                    store.forget(entries)

        return _cpu_us(messages, work)
    finally:
        store.close()


def _sqlite(folder: Path, messages: int) -> float:
    db = sqlite3.connect(folder / "floor.db", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=wal")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE queue (id INTEGER PRIMARY KEY, recipient INTEGER, frame TEXT)")
        db.execute("CREATE INDEX queue_recipient ON queue (recipient, id)")
        frame = f"06Client-000001Client-000002{TS}{TEXT}\n"

        def work() -> None:
            for first in range(0, messages, BATCH):
                count = min(BATCH, messages - first)  # ids 2*first on: its 06 and 07 entries
                rows = [(2 * first + j, j % USERS, frame) for j in range(2 * count)]
                for sql, params in (("INSERT INTO queue VALUES (?, ?, ?)", rows),
                                    ("DELETE FROM queue WHERE id = ?", [r[:1] for r in rows])):
                    db.execute("BEGIN")
                    db.executemany(sql, params)
                    db.execute("COMMIT")

        return _cpu_us(messages, work)
    finally:
        db.close()


def floor(tmp: Path, runs: int, messages: int) -> list[Figure]:
    scenario = f"floor, {messages:,} messages in process"
    codec, store, plain = [], [], []
    for run in range(runs):
        folder = tmp / f"floor-{run}"
        folder.mkdir()
        codec.append(_codec(messages))
        store.append(_store(folder, messages))
        plain.append(_sqlite(folder, messages))
    note = f"CPU us per complete message; {BATCH} messages per transaction"
    return [
        Figure(scenario, "codec: decode 05 and 12, format 16, 06, 07", "us", codec, note=note),
        Figure(scenario, "store: a complete message's writes", "us", store),
        Figure(scenario, "plain sqlite3: 06 and 07 entries in and out", "us", plain),
    ]
