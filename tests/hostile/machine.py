"""A hypothesis state machine that throws random valid and invalid frames at a running server.

One server subprocess per run (a fresh database of `backend`, no flood limit, no
login timeout), up to SLOTS raw connections. Each step sends one burst of frames on
one connection (register, log in right and wrong, 05 to users, groups, unknown
and spoofed ids, retransmissions, 12 right and wrong, 08, 10 valid and not,
garbage, mutated frames, over-long lines), possibly cut into pieces, or drops
a connection (with half a frame unsent) and comes back. The model (model.py)
says what each connection is owed; after every step the machine reads exactly
that many frames from each, compares, and pings every connection to see that
nothing more came.

Invariants checked: the server never dies; every 05 gets exactly one 16 or one
13, and the 13s and 16s of a connection come in the order of its frames;
nobody receives a frame about someone else (06 to me or a group of mine, 07,
09 and 16 about my own messages, 11 of my groups); at the end, once everyone
has logged in and acknowledged, every message reached exactly its recipients
(for a group: the members but the author), every queue is empty, and a last
login of everyone gets a 04 and nothing else.

Used small by tests/hostile/test_stateful.py and large by soak/hostile.py.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from backends import SQLITE, Backend
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from wire import ServerProcess, WireClient

from hostile.model import ANSWERS, ANY_TOKEN, Conn, Key, Model
from shared import events as ev
from shared.codec import encode
from shared.ids import is_group_id

SLOTS = 4
"""Connections open at once."""
MAX_USERS = 7
"""Accounts a run may register (a 01 beyond that is sent as a 14 instead)."""
GUARD = 5.0
"""Seconds to wait for a frame the model says is owed: a guard, frames take microseconds."""
BASE_TS = 1_700_000_000
UNKNOWN_USER = "Client-999999"
UNKNOWN_GROUP = "Group-9999999"
SERVER_ARGS = ("--login-timeout", "0", "--idle-ping", "0")
"""The deadlines are tested elsewhere; here an idle anonymous connection must stay open."""

# -- what a burst is made of: intents, resolved against the model when sent -----------------

TEXT = st.text(st.sampled_from("ab yzé€👋\u200d"), min_size=1, max_size=12)
BAD_TEXT = st.sampled_from(["", "tab\there", "x" * 219, "del\x7f", "nel\x85", "cr\rin"])
INDEX = st.integers(0, 30)
TARGET = st.sampled_from(["user", "user", "group", "group", "self"])
SEND_OK = st.tuples(st.just("send"), TARGET, INDEX, st.just("me"),
                    st.sampled_from(["new", "new", "new", "again"]), TEXT)
SEND = st.tuples(
    st.just("send"),
    st.sampled_from(["user", "group", "self", "unknown_user", "unknown_group"]),
    INDEX,
    st.sampled_from(["me", "spoof"]),
    st.sampled_from(["new", "again"]),
    TEXT | BAD_TEXT,
)
RECEIPT = st.tuples(st.just("receipt"),
                    st.sampled_from(["right", "right", "right", "again", "other", "wrong"]), INDEX)
READ = st.tuples(st.just("read"),
                 st.sampled_from(["acked", "acked", "user", "group", "unknown_user",
                                  "unknown_group"]),
                 INDEX, st.sampled_from(["all", "some", "some", "zero"]))
GROUP_OK = st.tuples(st.just("group"), st.lists(INDEX, min_size=1, max_size=4), st.just("ok"),
                     st.just("new"))
GROUP = st.tuples(st.just("group"), st.lists(INDEX, max_size=9),
                  st.sampled_from(["ok", "self", "dup", "unknown", "spoof"]),
                  st.sampled_from(["new", "again"]))
MUTABLE = SEND | RECEIPT | READ | GROUP | st.just(("ping",))
HOSTILE = st.one_of(
    SEND, GROUP, st.just(("pong",)), st.just(("register",)),
    st.tuples(st.just("login"), INDEX, st.booleans()),
    st.tuples(st.just("garbage"), st.binary(max_size=40)),
    st.tuples(st.just("long"), st.sampled_from([1024, 1025, 1026]) | st.integers(1027, 2500),
              st.sampled_from([b"", b"\r", "é".encode()])),
    st.tuples(st.just("mutant"), MUTABLE, st.integers(0, 1000), st.integers(0, 255)),
)
"""Invalid or unusual frames: about a third of what is sent."""
INTENT = st.one_of(SEND_OK, SEND_OK, SEND_OK, RECEIPT, RECEIPT, READ, GROUP_OK,
                   st.tuples(st.just("ack_and_read"), INDEX),
                   st.just(("ping",)), HOSTILE, HOSTILE, HOSTILE)
BURST = st.lists(INTENT, min_size=1, max_size=4)
CUTS = st.lists(st.integers(0, 3000), max_size=3)
SLOT = st.integers(0, SLOTS - 1)


class ServerMachine(RuleBasedStateMachine):
    """Random traffic against one server, checked step by step against the model."""

    checked: ClassVar[Counter[str]] = Counter()
    """Frames checked against the model, by kind, over all runs (for the soak's table)."""
    backend: ClassVar[Backend] = SQLITE
    """Where each run's server keeps its data (a test may set another)."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="interzap-hostile-"))
        self.db = self.backend.create(self.folder)
        try:
            self.server = ServerProcess(self.db, log_path=self.folder / "server.log",
                                        log_level="info", extra_args=SERVER_ARGS)
        except BaseException:
            self._remove()
            raise
        self.model = Model()
        self.slots: list[Conn | None] = [None] * SLOTS
        self.others: list[Conn] = []  # the connections of the final drain
        self.received: dict[Key, set[str]] = {}  # who got a 06 of each message
        self.ts = BASE_TS
        self.clean = True  # the last step finished: teardown may drain

    # -- steps ------------------------------------------------------------------------

    @contextmanager
    def _step(self) -> Iterator[None]:
        self.clean = False
        yield
        self.clean = True

    @initialize()
    def three_users(self) -> None:
        with self._step():
            for slot in range(3):
                self._register(slot)

    @rule(slot=SLOT, burst=BURST, cuts=CUTS)
    def send_burst(self, slot: int, burst: list[tuple], cuts: list[int]) -> None:
        """Frames resolved one by one against the model, sent in one write or in pieces."""
        with self._step():
            conn = self._open(slot)
            data = b""
            for intent in burst:
                chunk = self._resolve(conn, intent)
                data += chunk
                if self.model.handle_data(conn, chunk):
                    break  # a good 03: its queue follows this batch, nothing may overtake it
            edges = [0, *sorted(min(cut, len(data)) for cut in cuts), len(data)]
            conn.wire.send_pieces(data[a:b] for a, b in itertools.pairwise(edges)
                                  if b > a)
            self._settle()

    # the same rule twice: swarm testing switches rules off per run, this one must stay likely
    @rule(slot=SLOT, burst=BURST, cuts=CUTS)
    def send_another_burst(self, slot: int, burst: list[tuple], cuts: list[int]) -> None:
        self.send_burst(slot, burst, cuts)

    @rule(slot=SLOT, then=st.sampled_from(["away", "anonymous", "log in"]), which=INDEX,
          partial=st.binary(max_size=20))
    def reconnect(self, slot: int, then: str, which: int, partial: bytes) -> None:
        """Leave (maybe in the middle of a frame); then stay away, or come back anonymous,
        or logged in as anyone (someone online elsewhere is replaced: 13/12)."""
        with self._step():
            self._leave(slot, partial)
            if then != "away":
                conn = self._open(slot, log_in=False)
                if then == "log in" and self.model.known_users():
                    self._send(conn, self._resolve_login(conn, which, True))
            self._settle()

    @precondition(lambda self: len(self.model.tokens) < MAX_USERS)
    @rule(slot=SLOT)
    def register(self, slot: int) -> None:
        with self._step():
            self._register(slot)

    def _register(self, slot: int) -> None:
        self._leave(slot, b"")
        conn = self._open(slot, log_in=False)
        self._send(conn, encode(ev.Register()))
        self._settle()

    # -- connections --------------------------------------------------------------------

    def _connect(self) -> Conn:
        return Conn(WireClient.connect(*self.server.address, timeout=GUARD))

    def _open(self, slot: int, log_in: bool = True) -> Conn:
        """The slot's connection; a new one is logged in as someone offline, if anyone is."""
        conn = self.slots[slot]
        if conn is None:
            conn = self.slots[slot] = self._connect()
            offline = [user for user in self.model.known_users()
                       if user not in self.model.online]
            if log_in and offline:
                user = offline[slot % len(offline)]
                self._send(conn, encode(ev.Login(user, str(self.model.tokens[user]))))
                self._settle()
        return conn

    def _send(self, conn: Conn, data: bytes) -> None:
        self.model.handle_data(conn, data)
        conn.wire.send_raw(data)

    def _leave(self, slot: int, partial: bytes) -> None:
        """Half-close (after an unfinished frame, if any) and wait for the server's close."""
        conn = self.slots[slot]
        if conn is None:
            return
        self.slots[slot] = None
        self._close(conn, partial)

    def _close(self, conn: Conn, partial: bytes = b"") -> None:
        if partial.replace(b"\n", b""):
            conn.wire.send_raw(partial.replace(b"\n", b""))
        late = conn.wire.leave(GUARD)
        assert not late, f"{conn.wire}: frames after the last check: {late!r}"
        self.model.disconnect(conn)

    # -- checking -----------------------------------------------------------------------

    def _settle(self, conns: list[Conn] | None = None) -> None:
        """Read what the model says each connection is owed, then ping: nothing else came."""
        if conns is None:
            conns = [conn for conn in self.slots if conn is not None]
        for conn in conns:
            self._collect(conn)
        for slot, conn in enumerate(self.slots):
            if conn is not None and conn.closing:
                conn.wire.expect_closed(GUARD)
                conn.wire.close()
                self.slots[slot] = None
        alive = [conn for conn in conns if not conn.closing]
        for conn in alive:
            conn.wire.send(ev.Ping())
        for conn in alive:
            conn.wire.expect_next(ev.Pong(), GUARD)
        assert self.server.running(), f"the server died; log:\n{self.server.log_tail()}"

    def _collect(self, conn: Conn) -> None:
        expected, conn.expected = conn.expected, []
        actual = [self._check_addressed(conn, conn.wire.next_event(GUARD)) for _ in expected]
        why = f"{conn.wire}: expected {expected!r}, got {actual!r}"
        self.checked.update(f"{e.code:02d}" if isinstance(e, ev.Error) else type(e).__name__
                            for e in actual)
        assert Counter(actual) == Counter(expected), why
        answers = [event for event in actual if isinstance(event, ANSWERS)]
        assert answers == [event for event in expected if isinstance(event, ANSWERS)], why

    def _check_addressed(self, conn: Conn, event: ev.Event) -> ev.Event:
        """Fail on a frame about someone else; return the event as the model writes it."""
        me = conn.user
        messages = self.model.messages
        about_me = True
        if isinstance(event, ev.Deliver):
            key = (event.src, event.dst, event.ts)
            about_me = event.dst == me or (
                is_group_id(event.dst) and me in self.model.groups.get(event.dst, ())
                and event.src != me)
            self.received.setdefault(key, set()).add(str(me))
        elif isinstance(event, ev.Delivered | ev.Accepted):
            about_me = (me, event.dst, event.ts) in messages
        elif isinstance(event, ev.ReadNotice):
            about_me = (me in self.model.groups.get(event.peer, ()) if is_group_id(event.peer)
                        else any(key[:2] == (me, event.peer) for key in messages))
        elif isinstance(event, ev.GroupCreated):
            about_me = me in event.members
        elif isinstance(event, ev.LoggedIn):
            about_me = event.user == me
        elif isinstance(event, ev.Registered):
            about_me = event.user == me and self.model.tokens.get(event.user, "") is None
            assert about_me, f"{conn.wire} ({me}) received {event!r}"
            self.model.tokens[event.user] = event.token
            return ev.Registered(event.user, ANY_TOKEN)
        elif isinstance(event, ev.Error):
            return ev.Error(event.code, "")
        assert about_me, f"{conn.wire} ({me}) received {event!r}, which is not about it"
        return event

    # -- resolving intents into bytes ----------------------------------------------------------

    def _new_ts(self) -> int:
        self.ts += 1
        return self.ts

    def _me(self, conn: Conn) -> str:
        """The connection's id, or (not logged in) some id to put in the frame."""
        return conn.user or next(iter(self.model.tokens), "Client-000001")

    def _user(self, index: int) -> str:
        users = list(self.model.tokens)
        return users[index % len(users)] if users else UNKNOWN_USER

    def _group(self, index: int) -> str:
        groups = list(self.model.groups)
        return groups[index % len(groups)] if groups else UNKNOWN_GROUP

    def _resolve(self, conn: Conn, intent: tuple) -> bytes:
        kind, *args = intent
        resolver = getattr(self, f"_resolve_{kind}", None)
        if resolver is not None:
            return resolver(conn, *args)  # type: ignore[no-any-return]
        if kind == "ping":
            return b"14\n"
        if kind == "pong":
            return b"15\n"
        if kind == "register":  # past MAX_USERS a new account would only slow the run
            anonymous = conn.user is None
            return b"14\n" if anonymous and len(self.model.tokens) >= MAX_USERS else b"01\n"
        if kind == "garbage":
            return args[0].replace(b"\n", b"") + b"\n"
        raise AssertionError(f"unknown intent {intent!r}")

    def _resolve_login(self, conn: Conn, which: int, right: bool) -> bytes:
        users = self.model.known_users()
        if not users:
            return b"03" + UNKNOWN_USER.encode() + b"0" * 32 + b"\n"
        user = users[which % len(users)]
        token = self.model.tokens[user]
        assert token is not None
        if not right:
            token = token[1:] + ("0" if token[0] != "0" else "1")
        return encode(ev.Login(user, token))

    def _resolve_send(self, conn: Conn, target: str, index: int, src_mode: str, ts_mode: str,
                      text: str) -> bytes:
        me = self._me(conn)
        dst = {"user": self._user(index), "self": me, "group": self._group(index),
               "unknown_user": UNKNOWN_USER, "unknown_group": UNKNOWN_GROUP}[target]
        src = me
        if src_mode == "spoof":
            src = next((user for user in self.model.tokens if user != me), "Client-999998")
        earlier = [key for key in self.model.messages if key[0] == src]
        if ts_mode == "again" and earlier:  # a retransmission, maybe with another text
            _, dst, ts = earlier[index % len(earlier)]
        else:
            ts = self._new_ts()
        return b"05%s%s%010d%s\n" % (src.encode(), dst.encode(), ts, text.encode())

    def _resolve_receipt(self, conn: Conn, mode: str, index: int) -> bytes:
        me = conn.user
        messages = self.model.messages
        keys = {
            "right": [k for k, m in messages.items() if me in m.pending],
            "again": [k for k, m in messages.items() if me in m.recipients and me not in m.pending],
            "other": [k for k, m in messages.items() if me not in m.recipients],
        }.get(mode, [])
        if keys:
            key = keys[index % len(keys)]
        else:
            key = (self._user(index), self._me(conn), self._new_ts())
        return encode(ev.Receipt(*key))

    def _resolve_ack_and_read(self, conn: Conn, index: int) -> bytes:
        """What a client does when a message is shown: 12, then 08 up to its ts; only for a
        06 it got (a 12 in the same write as the 05, to oneself, may spare the server the
        06: the entry is gone before the batch commits, and whether it was sent first
        depends on where TCP split the bytes)."""
        keys = [key for key, m in self.model.messages.items()
                if conn.user in m.pending and str(conn.user) in self.received.get(key, ())]
        if not keys:
            return b"14\n"
        src, dst, ts = keys[index % len(keys)]
        return encode(ev.Receipt(src, dst, ts)) + encode(ev.Read(
            dst if is_group_id(dst) else src, ts))

    def _resolve_read(self, conn: Conn, peer_kind: str, index: int, ts_mode: str) -> bytes:
        acked = [(dst if is_group_id(dst) else src, ts)
                 for (src, dst, ts), m in self.model.messages.items()
                 if conn.user in m.recipients and conn.user not in m.pending]
        if peer_kind == "acked" and acked:  # a conversation where an 08 can make a 09
            peer, ts = acked[index % len(acked)]
            return encode(ev.Read(peer, ts if ts_mode == "some" else 9_999_999_999))
        peer = {"user": self._user(index), "group": self._group(index), "acked": self._user(index),
                "unknown_user": UNKNOWN_USER, "unknown_group": UNKNOWN_GROUP}[peer_kind]
        stamps = [key[2] for key in self.model.messages]
        ts = {"all": 9_999_999_999, "zero": 0}.get(ts_mode)
        if ts is None:
            ts = stamps[index % len(stamps)] if stamps else BASE_TS
        return encode(ev.Read(peer, ts))

    def _resolve_group(self, conn: Conn, indexes: list[int], mode: str, ts_mode: str) -> bytes:
        me = self._me(conn)
        members = list(dict.fromkeys(self._user(i) for i in indexes if self._user(i) != me))
        creator = me
        if mode == "self":
            members.append(me)
        elif mode == "dup" and members:
            members.append(members[0])
        elif mode == "unknown":
            members.append(UNKNOWN_USER)
        elif mode == "spoof":
            creator = next((user for user in self.model.tokens if user != me), "Client-999998")
        mine = [ts for (who, ts) in self.model.group_keys if who == creator]
        ts = mine[len(indexes) % len(mine)] if ts_mode == "again" and mine else self._new_ts()
        return b"10%s%010d%s\n" % (creator.encode(), ts, "".join(members).encode())

    def _resolve_long(self, conn: Conn, size: int, tail: bytes) -> bytes:
        """A line of `size` bytes (the tail included) that looks like the start of a 05."""
        return b"05" + b"y" * max(0, size - 2 - len(tail)) + tail + b"\n"

    def _resolve_mutant(self, conn: Conn, base: tuple, position: int, byte: int) -> bytes:
        """A valid-looking frame with one byte replaced (maybe by an LF: two lines)."""
        data = bytearray(self._resolve(conn, base))
        data[position % (len(data) - 1)] = byte
        return bytes(data)

    # -- the end: everyone logs in and acknowledges; then nothing is owed ------------------------

    def teardown(self) -> None:
        try:
            if self.clean:
                self._drain()
        finally:
            for conn in [*self.slots, *self.others]:
                if conn is not None:
                    conn.wire.close()
            self.server.stop()
            self._remove()

    def _remove(self) -> None:
        """Give the database back and remove the run's folder."""
        try:
            self.backend.drop(self.db)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _login_all(self) -> list[Conn]:
        """Log everyone in, one after the other, acknowledging every 06 that comes."""
        online: list[Conn] = []
        for user in list(self.model.tokens):
            token = self.model.tokens[user]
            assert token is not None, f"the 02 of {user} was never read"
            conn = self._connect()
            self.others.append(conn)
            online.append(conn)
            self._send(conn, encode(ev.Login(user, token)))
            self._settle(online)
            keys = [k for k, m in self.model.messages.items() if user in m.pending]
            if keys:
                self._send(conn, b"".join(encode(ev.Receipt(*key)) for key in keys))
                self._settle(online)
        return online

    def _drain(self) -> None:
        for slot in range(SLOTS):
            self._leave(slot, b"")
        online = self._login_all()
        assert not self.model.owed(), f"the model still owes {self.model.owed()!r}"
        for key, message in self.model.messages.items():
            got = self.received.get(key, set())
            assert got == set(message.recipients), (
                f"{key} reached {sorted(got)}, not exactly {sorted(message.recipients)}")
        for conn in online:
            self._close(conn)
        again = self._login_all()  # an empty queue: a 04 and nothing else
        for conn in again:
            frames = [e for e in conn.wire.history if e != ev.Pong()]
            assert frames == [ev.Greeting("Interzap/1"), ev.LoggedIn(str(conn.user))], frames
            self._close(conn)
        log = self.server.log_tail(100_000)
        assert "Traceback" not in log and " ERROR " not in log, log
