"""Presence: who is online, when each user was last seen, who hides it, and who shares a
chat with whom (PROTOCOL.md 5.14).

Part of the store (Store.presence). A user's row of `presence` is written when
they log in and when their connection ends, never by a message, so it adds
nothing to the path of a 1:1 message. Whether two users share a chat is read
from what the database keeps anyway: a group they are both in, a message key
either way (kept 7 days), or a read mark either way (kept for good).

Theory of operation, for a server that dies without writing its users' logouts
(kill -9, a power cut): each row online names the server holding the user (its
origin, wakeups.py; "" for the only server), and each server says once a second
that it is alive, in its heartbeat row, by the database's clock (one clock for
every node, whatever their own say). The only server, at start, marks offline
whoever its last run left online, last seen at that run's last heartbeat
(all_offline). In a cluster a user counts as online only while their server's
heartbeat is fresh (STALE); a live node that finds a heartbeat stale locks it
(SKIP LOCKED: one node at a time), marks some of its users offline (REAP_BATCH a
tick), and deletes it with the last of them (reap). A node that was only slow,
and finds its heartbeat gone or stale, marks its own users online again (beat).
docs/SCALING.md, "Presence across nodes".

Knows ids, the presence, heartbeat, member, message_key and read_mark tables; knows no
chat rules.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from peewee import Select

from interzap_server.storage.models import Heartbeat, Member, MessageKey, ReadMark, Seen
from interzap_server.storage.numbers import user_number
from interzap_server.storage.runner import Runner
from interzap_server.storage.statements import Statements
from shared.ids import is_user_id, user_id

log = logging.getLogger(__name__)

STALE = 5
"""Seconds after its last heartbeat that a node of a cluster counts as dead. It beats
once a second (the loop's tick), so this is five beats missed: more than a loaded loop's
longest iteration or a lock wait (storage.LOCK_TIMEOUT, cancelled after 0.1 s), short
enough that a dead node's users are shown offline a few seconds after its clients
noticed (they fail over within about 1.5 s, docs/SCALING.md)."""
REAP_BATCH = 50
"""Users of a dead node marked offline (and announced) per tick: each costs the reads of a
logout, inside the tick's batch, whose frames wait for its commit; a 29 about the others
already answers their last seen (their node's heartbeat is stale)."""


@dataclass(frozen=True, slots=True)
class Presence:
    """One user's row: online now, the time of their last login or logout, hidden."""

    online: bool
    seen: int
    hidden: bool


class PresenceTable:
    """Presence as plain ids."""

    def __init__(self, runner: Runner, sql: Statements, origin: str = "",
                 cluster: bool = False) -> None:
        self._runner = runner
        self._sql = sql  # the statements of every login and departure (statements.py)
        self._origin = origin  # this server's, in the rows of the users it holds
        self._cluster = cluster  # several nodes on PostgreSQL: heartbeats judged, dead reaped

    def arrived(self, user: str, now: int) -> None:
        """`user` logged in here at `now`."""
        self._runner.run(self._sql.presence_upsert, user_number(user), True, now, False,
                         self._origin)

    def left(self, user: str, now: int) -> bool:
        """`user`'s connection here ended at `now`: last seen then. False if their row
        names another server (they logged in there since): it stays as it is."""
        return bool(self._runner.run(self._sql.presence_left, now, user_number(user),
                                     self._origin).rowcount)

    def hide(self, user: str, hidden: bool, now: int) -> None:
        """`user` hides (or shares again) their presence; the rest of the row stays."""
        self._runner.execute(Seen
                             .insert(user=user_number(user), online=False, seen=now,
                                     hidden=hidden)
                             .on_conflict(conflict_target=[Seen.user],
                                          update={Seen.hidden: hidden}))

    def of(self, user: str) -> Presence | None:
        """`user`'s row, or None if they have not logged in since presence was kept. In a
        cluster, a user whose node's heartbeat is stale is offline, last seen at it."""
        rows = self._runner.rows(self._sql.presence_of, user_number(user))
        if not rows:
            return None
        online, seen, hidden, alive, clock = rows[0]
        if online and self._cluster and alive is not None and alive < clock - STALE:
            return Presence(False, max(int(seen), int(alive)), bool(hidden))
        return Presence(bool(online), int(seen), bool(hidden))

    def hiding(self, users: Iterable[str]) -> set[str]:
        """Those of `users` who hide their presence."""
        numbers = [user_number(user) for user in users]
        if not numbers:
            return set()
        rows = self._runner.query(Seen.select(Seen.user)
                                  .where(Seen.user.in_(numbers) & (Seen.hidden == True)))  # noqa: E712
        return {user_id(number) for (number,) in rows}

    def contacts(self, user: str) -> set[str]:
        """Everyone who shares a chat with `user`: a group, a message to them (kept 7
        days), a read mark either way. Off the message path: at login and logout."""
        me = user_number(user)
        found = {user_id(n) for (n,) in self._runner.rows(self._sql.sharing, me, me, me)}
        marks = self._runner.rows(self._sql.marks_between, user, user)
        found |= {peer for author, dst in marks
                  for peer in (author, dst) if peer != user and is_user_id(peer)}
        found.discard(user)
        return found

    def share_chat(self, one: str, other: str) -> bool:
        """Whether `one` and `other` share a chat, each test by a primary key or index."""
        a, b = user_number(one), user_number(other)
        theirs = Member.select(Member.group).where(Member.user == b)
        tests: tuple[Select, ...] = (
            Member.select(Member.group).where((Member.user == a) & Member.group.in_(theirs)),
            MessageKey.select(MessageKey.ts).where((MessageKey.dst == a) & (MessageKey.src == b)),
            MessageKey.select(MessageKey.ts).where((MessageKey.dst == b) & (MessageKey.src == a)),
            ReadMark.select(ReadMark.ts).where((ReadMark.dst == one) & (ReadMark.author == other)),
            ReadMark.select(ReadMark.ts).where((ReadMark.dst == other) & (ReadMark.author == one)),
        )
        return any(self._runner.query(test.limit(1)) for test in tests)

    def all_offline(self) -> None:
        """At the start of the only server on a database: nobody is online any more (a
        server killed left its users' rows online), last seen when their server was last
        known alive (its heartbeat, or their login if later), else now; said in the log."""
        left = self._runner.run(self._sql.all_offline).rowcount
        self._runner.execute(Heartbeat.delete())
        if left:
            log.info("%d users left online by the last run are offline, last seen at its last "
                     "heartbeat", left)

    def beat(self) -> list[str]:
        """This server is alive (once a second). If its last heartbeat was gone or stale, a
        live node may have taken it for dead while it was slow: returns the users it holds
        whom such a node marked offline, online again."""
        if self._runner.run(self._sql.beat, self._origin, STALE).rowcount:
            return []
        self._runner.run(self._sql.first_beat, self._origin)
        revived = [user_id(number) for (number,) in self._runner.rows(self._sql.revive,
                                                                       self._origin)]
        if revived:
            log.warning("this node (heartbeat %s) was taken for dead: %d users online again",
                        self._origin, len(revived))
        elif self._cluster:  # what the node that finds this one dead will name it
            log.info("this node's heartbeat is %s", self._origin)
        return revived

    def reap(self) -> list[tuple[str, int]]:
        """In a cluster: another node whose heartbeat is stale is dead; up to REAP_BATCH of
        the users it held are offline from now, each last seen at that heartbeat (or their
        login, if later); its heartbeat goes with the last of them. Returns (user, last
        seen) of each. One live node takes a dead one at a time (SKIP LOCKED)."""
        if not self._cluster:
            return []
        dead = self._runner.one(self._sql.reap, STALE, self._origin)
        if dead is None:
            return []
        origin, alive = dead
        rows = self._runner.rows(self._sql.reaped, alive, origin, origin, REAP_BATCH)
        if len(rows) < REAP_BATCH:
            self._runner.run(self._sql.buried, origin)
            log.warning("node %s is dead (no heartbeat for %d s): its users are offline",
                        origin, STALE)
        return [(user_id(number), int(seen)) for number, seen in rows]
