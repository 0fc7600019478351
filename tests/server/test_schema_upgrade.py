"""A database made by an earlier version opens, keeps what it held and drops the old indexes.

The old tables are written here as the raw SQL that version created (session 3:
message keyed by (src, dst, ts) plus a (dst, ts) index, pending.message_id a
foreign key), so the test does not depend on any old code.
"""

import sqlite3
from contextlib import closing
from pathlib import Path

from interzap_server.storage import open_store

TS = 1_700_000_000
FRAME = "06Client-000001Client-0000021700000000hi\n"

OLD_SCHEMA = f"""
CREATE TABLE "message" ("id" INTEGER NOT NULL PRIMARY KEY, "src" VARCHAR(13) NOT NULL,
    "dst" VARCHAR(13) NOT NULL, "ts" INTEGER NOT NULL, "accepted" INTEGER NOT NULL);
CREATE UNIQUE INDEX "message_src_dst_ts" ON "message" ("src", "dst", "ts");
CREATE INDEX "message_dst_ts" ON "message" ("dst", "ts");
CREATE INDEX "message_accepted" ON "message" ("accepted");
CREATE TABLE "pending" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "recipient" INTEGER NOT NULL, "message_id" INTEGER, "frame" TEXT NOT NULL,
    FOREIGN KEY ("message_id") REFERENCES "message" ("id") ON DELETE CASCADE);
CREATE INDEX "pending_recipient_id" ON "pending" ("recipient", "id");
CREATE INDEX "pending_message_id_recipient" ON "pending" ("message_id", "recipient");
INSERT INTO "message" VALUES (1, 'Client-000001', 'Client-000002', {TS}, {TS});
INSERT INTO "pending" VALUES (1, 2, 1, '{FRAME}');
"""


def message_indexes(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message'")
        return {name for (name,) in rows}


def test_old_database_keeps_its_keys_and_queue_under_the_new_index(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(OLD_SCHEMA)
    store = open_store(str(path))
    try:
        with store.batch():
            alice, bob = store.register("0" * 64, TS), store.register("0" * 64, TS)
            assert (alice, bob) == ("Client-000001", "Client-000002")
            assert store.add_message(alice, bob, TS, TS) is None  # the old key is known
            assert isinstance(store.add_message(alice, bob, TS + 1, TS), int)
        [owed] = store.queued(bob, 0, 10)
        assert owed.frame == FRAME.encode() and owed.entry == 1
        with store.batch():
            assert store.acknowledge(bob, alice, bob, TS) == 0
        assert store.queued(bob, 0, 10) == []
    finally:
        store.close()
    assert message_indexes(path) == {"message_dst_src_ts", "message_accepted"}
