"""A database made by an earlier version opens, keeps what it held, and works on.

The old tables are written here as the raw SQL those versions created, so the
test does not depend on any old code: session 4's (message keyed by (dst, src,
ts) with text peers, pending under one AUTOINCREMENT id without a foreign key)
and session 3's (message keyed by (src, dst, ts) plus a (dst, ts) index,
pending.message_id a foreign key).
"""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from backends import Backend

from interzap_server.rules.accounts import hash_token
from interzap_server.storage import expiry, open_store
from server.rules_kit import Node
from shared import events as ev
from shared.codec import encode
from shared.codes import ErrorCode, GroupOp

TS = 1_700_000_000
ALICE, BOB, CAROL, GROUP = "Client-000001", "Client-000002", "Client-000003", "Group-0000001"
TOKEN = "0" * 32
FRAMES = (  # Bob's queue, in order: a 06, a 07, a 09, an 11, a group 06
    f"06{ALICE}{BOB}{TS}hi\n",
    f"07{ALICE}{TS - 5}\n",
    f"09{ALICE}{TS - 5}\n",
    f"11{GROUP}{TS}{ALICE}{BOB}{CAROL}\n",
    f"06{ALICE}{GROUP}{TS}all\n",
)

COMMON = f"""
CREATE TABLE "user" ("id" INTEGER NOT NULL PRIMARY KEY, "token_hash" VARCHAR(64) NOT NULL,
    "created" INTEGER NOT NULL);
CREATE TABLE "chat_group" ("id" INTEGER NOT NULL PRIMARY KEY, "creator_id" INTEGER NOT NULL,
    "ts" INTEGER NOT NULL, "created" INTEGER NOT NULL,
    FOREIGN KEY ("creator_id") REFERENCES "user" ("id"));
CREATE UNIQUE INDEX "chat_group_creator_id_ts" ON "chat_group" ("creator_id", "ts");
CREATE TABLE "member" ("group_id" INTEGER NOT NULL, "user_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL, PRIMARY KEY ("group_id", "user_id"));
CREATE TABLE "readmark" ("dst" VARCHAR(13) NOT NULL, "author" VARCHAR(13) NOT NULL,
    "reader" VARCHAR(13) NOT NULL, "ts" INTEGER NOT NULL, PRIMARY KEY ("dst", "author", "reader"));
INSERT INTO "user" VALUES (1, '{hash_token(TOKEN)}', {TS}), (2, '{hash_token(TOKEN)}', {TS}),
    (3, '{hash_token(TOKEN)}', {TS});
INSERT INTO "chat_group" VALUES (1, 1, {TS}, {TS});
INSERT INTO "member" VALUES (1, 1, 0), (1, 2, 1), (1, 3, 2);
INSERT INTO "message" VALUES (1, '{ALICE}', '{BOB}', {TS}, {TS}),
    (2, '{ALICE}', '{GROUP}', {TS}, {TS}), (3, '{BOB}', '{ALICE}', {TS - 5}, {TS});
INSERT INTO "pending" VALUES (10, 2, 1, '{FRAMES[0]}'), (11, 2, NULL, '{FRAMES[1]}'),
    (12, 2, NULL, '{FRAMES[2]}'), (13, 2, NULL, '{FRAMES[3]}'), (14, 2, 2, '{FRAMES[4]}'),
    (15, 3, 2, '{FRAMES[4]}');
"""

SESSION_4 = """
CREATE TABLE "message" ("id" INTEGER NOT NULL PRIMARY KEY, "src" VARCHAR(13) NOT NULL,
    "dst" VARCHAR(13) NOT NULL, "ts" INTEGER NOT NULL, "accepted" INTEGER NOT NULL);
CREATE UNIQUE INDEX "message_dst_src_ts" ON "message" ("dst", "src", "ts");
CREATE INDEX "message_accepted" ON "message" ("accepted");
CREATE TABLE "pending" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "recipient" INTEGER NOT NULL, "message_id" INTEGER, "frame" TEXT NOT NULL);
CREATE INDEX "pending_recipient_id" ON "pending" ("recipient", "id");
CREATE INDEX "pending_message_id_recipient" ON "pending" ("message_id", "recipient");
"""

SESSION_3 = """
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
"""


def old_database(path: Path, schema: str) -> Path:
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(schema + COMMON)
    return path


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


@pytest.mark.parametrize("schema", [pytest.param(SESSION_4, id="session-4"),
                                    pytest.param(SESSION_3, id="session-3")])
def test_old_database_queue_is_delivered_and_keys_recognised(tmp_path: Path,
                                                             schema: str) -> None:
    """The old queue comes in order at login and leaves with its 12s and 15s; old keys are
    retransmissions; old users log in and old groups take messages."""
    path = old_database(tmp_path / "old.db", schema)
    node = Node(path)
    try:
        bob, came = node.log_in(BOB, TOKEN)
        assert came[0] == ev.LoggedIn(BOB)
        assert [encode(event)[:2].decode() for event in came[1:]] == [f[:2] for f in FRAMES]
        assert came[1] == ev.Deliver(ALICE, BOB, TS, "hi")
        alice, _ = node.log_in(ALICE, TOKEN)
        assert node.ask(alice, ev.Send(ALICE, BOB, TS, "again")) == [ev.Accepted(BOB, TS)]
        assert bob.take() == []  # a retransmission: nothing delivered
        node.ask(bob, ev.Receipt(ALICE, BOB, TS))
        assert alice.take() == [ev.Delivered(BOB, TS)]
        assert node.ask(alice, ev.Send(ALICE, GROUP, TS + 1, "new")) == [
            ev.Accepted(GROUP, TS + 1)]
        assert bob.take() == [ev.Deliver(ALICE, GROUP, TS + 1, "new")]
    finally:
        node.close()
    assert "pending" not in tables(path) and "message" not in tables(path)


def test_old_group_copies_are_counted_after_the_upgrade(tmp_path: Path) -> None:
    """A group message queued before the upgrade owes its author a 07 after its last 12."""
    store = open_store(str(old_database(tmp_path / "old.db", SESSION_4)))
    try:
        with store.batch():
            assert store.acknowledge(BOB, ALICE, GROUP, TS) == 1
            assert store.acknowledge(CAROL, ALICE, GROUP, TS) == 0
        assert not store.message_known(ALICE, BOB, TS + 1)
        assert store.message_known(BOB, ALICE, TS - 5)
    finally:
        store.close()


def test_old_users_get_the_operators_columns_and_tables(tmp_path: Path) -> None:
    """A users table without `disabled` and `last_login` (every version before issue 19)
    gets them in place: its users log in (their last login kept), can be disabled (13/22),
    and invites (a table new since) register."""
    path = old_database(tmp_path / "old.db", SESSION_4)
    node = Node(path, registration="invite")
    try:
        _, came = node.log_in(ALICE, TOKEN)
        assert came[0] == ev.LoggedIn(ALICE)
        node.tick()  # the last login is written
        assert node.admin.disable(CAROL, TS)
        _, refused = node.log_in(CAROL, TOKEN)
        assert [error.code for error in refused if isinstance(error, ev.Error)] == [
            ErrorCode.ACCOUNT_DISABLED]
        [code] = node.admin.make_invites(1, TS * 2, TS)
        [registered] = node.ask(node.connect(), ev.RegisterInvite(code))
        assert isinstance(registered, ev.Registered) and registered.user == "Client-000004"
        states = {row.id: (row.state, row.last_login) for row in node.admin.users()}
        assert states[ALICE][0] == "active" and states[ALICE][1] is not None
        assert states[BOB] == ("active", None) and states[CAROL][0] == "disabled"
    finally:
        node.close()


def test_old_database_gets_names_admins_and_contacts(tmp_path: Path) -> None:
    """Before names: each group's creator becomes its admin, and the pairs of the keys kept
    become contacts, so a name set after the upgrade reaches them; a second start adds
    nothing twice."""
    path = old_database(tmp_path / "old.db", SESSION_4)
    Node(path).close()
    node = Node(path)  # the second start finds the columns and the contacts there
    try:
        alice, _ = node.log_in(ALICE, TOKEN)
        bob, _ = node.log_in(BOB, TOKEN)
        carol, _ = node.log_in(CAROL, TOKEN)
        for line in (bob, carol):
            line.take()
        renamed = ev.GroupEvent(GROUP, TS + 1, ALICE, GroupOp.RENAME, "old friends")
        assert node.ask(alice, ev.GroupChange(GROUP, TS + 1, GroupOp.RENAME, "old friends")) == [
            renamed]
        assert node.ask(bob, ev.GroupChange(GROUP, TS + 1, GroupOp.RENAME, "mine")) == [
            renamed, ev.Error(ErrorCode.NOT_ADMIN, f"only an admin of {GROUP} may do that")]
        assert carol.take() == [renamed]
        assert node.ask(bob, ev.SetName("Bob")) == [ev.Name(BOB, "Bob")]
        assert alice.take() == [ev.Name(BOB, "Bob")]  # a contact, and a co-member
    finally:
        node.close()
    assert {"contact", "group_change"} <= tables(path)


def test_session_5_database_upgrades_on_both_backends(backend: Backend, tmp_path: Path) -> None:
    """A database as session 5 left it (no names, admins, contacts or changes) gets them at
    start on SQLite and on PostgreSQL: the creator is admin, a remembered pair is a contact."""
    db = backend.create(tmp_path)
    try:
        store = open_store(db)
        with store.batch():
            alice, bob, carol = (store.register(hash_token(TOKEN), TS) for _ in range(3))
            group = store.create_group(alice, TS, (alice, bob), TS)
            store.add_message(carol, alice, TS, TS)
        with store.batch():  # back to session 5's tables
            for table, column in (("user", "name"), ("chat_group", "name"), ("member", "admin"),
                                  ("user", "disabled"), ("user", "last_login")):
                store._runner.run(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
            for table in ("contact", "group_change", "invite", "account_change"):
                store._runner.run(f'DROP TABLE "{table}"')
        store.close()
        store = open_store(db, shared=True)
        try:
            with store.batch():
                assert store.groups.info(group).admins == (alice,)
                assert store.names.contacts_of(alice) == [bob, carol]
                assert not store.names.meet(alice, carol)  # met before the upgrade
                credentials = store.accounts.credentials(alice)  # issue 19's columns
                assert credentials is not None and not credentials.disabled
                assert store.accounts.changes(0) == []
        finally:
            store.close()
    finally:
        backend.drop(db)


def test_accepted_index_is_dropped_and_keys_still_expire(backend: Backend,
                                                         tmp_path: Path) -> None:
    """A database of sessions 5 to 9 (an index on message_key.accepted) loses that index at
    start, on SQLite and on PostgreSQL; its keys are still known, and forgotten by a pass
    of prune() over the primary key once old and settled."""
    db = backend.create(tmp_path)
    try:
        store = open_store(db)
        with store.batch():
            alice, bob = (store.register(hash_token(TOKEN), TS) for _ in range(2))
            group = store.create_group(alice, TS, (alice, bob), TS)
            store.add_message(alice, bob, TS, TS)
            store.add_message(alice, group, TS, TS)
            store._runner.run('CREATE INDEX "messagekey_accepted" ON "message_key" ("accepted")')
        store.close()
        store = open_store(db)
        try:
            assert [index.columns for index in store._runner.db.get_indexes("message_key")
                    if "accepted" in index.columns] == []
            with store.batch():
                assert store.message_known(alice, bob, TS)
                assert sum(store.prune(TS + 1) for _ in range(expiry.SLICES)) == 2
                assert not store.message_known(alice, group, TS)
        finally:
            store.close()
    finally:
        backend.drop(db)
