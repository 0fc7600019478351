"""PostgreSQL's server-side prepared statements: the message path parsed and planned once per
connection instead of once per statement.

psycopg2 sends every statement as text with its values inlined, so PostgreSQL
parses and plans each one afresh; a statement of many rows (`VALUES (...),
(...)`) even has a new text for each number of rows. Measured at 1,000 msg/s
across two nodes (bench/README.md, "Session 9"), planning took twice the time
of execution. So the hot statements are written once, with arrays as
parameters (`unnest($1::bigint[], ...)` in place of VALUES lists, one text for
any number of rows), PREPAREd on each connection the runner opens (again after
every reconnect: a prepared statement lives and dies with its connection), and
run as `EXECUTE name(%s, ...)`, still inside the multi-statement strings of
runner.py's round trips. psycopg2 adapts a list as `ARRAY[...]` (an empty one
as `'{}'`), which the statement's declared parameter type then casts.

Theory of operation (plans). With plan_cache_mode = auto, PostgreSQL plans
five times with the values, then compares a generic plan's estimated cost with
the average of those: an array parameter of unknown length is estimated at 10
elements against the 1 or 2 the custom plans saw, so it kept planning every
time for most of these statements (pg_prepared_statements: 0 generic plans in
11 executions). Hence force_generic_plan: one plan per statement, made from the
table sizes of the moment and kept until ANALYZE, VACUUM or DDL invalidates it.
On fresh tables (a page each) that plan was a sequential scan of the queue,
which cost 10-11 ms an execution once the queue held 100,000 rows, where an
index probe costs 50 us, and autovacuum may take a minute or more to notice.
So the plans are thrown away (DISCARD PLANS, with a transaction's BEGIN) once
REPLAN seconds have passed, and made again from the sizes of then: about ten
plans a second per connection, against about a thousand before at 1,000 msg/s.
(enable_seqscan = off instead made the heartbeat's `reap` take 42 ms a call.)
And every per-user lookup is a correlated subquery, or an `= ANY($n)`
condition, on a primary key: at 1,000 users a join with the unnested array was
planned as a hash join over all the heads. Checked with EXPLAIN EXECUTE after
the store ran them, on fresh tables and at 100, 1,000 and 10,000 users
(bench/README.md, "Session 9").

Knows PREPARE and EXECUTE; knows no tables (statements.py writes the bodies).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

GENERIC = "SET plan_cache_mode = force_generic_plan"
"""Per connection: a prepared statement is planned once, not at every execution. Touches only
prepared statements: peewee's, sent as plain text, are planned as before."""
REPLAN = 1.0
"""Seconds a connection keeps its plans at most (theory of operation): a table that grew
meanwhile is scanned as it was planned for that long."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """One statement to PREPARE on every connection: its name, and its body written with
    PostgreSQL's own parameters ($1, $2, ...; one may occur more than once), each of a type
    the body gives (a cast, or the column it is compared with or inserted into)."""

    name: str
    body: str

    @property
    def definition(self) -> str:
        return f"PREPARE {self.name} AS {self.body}"

    @property
    def call(self) -> str:
        """The statement to run, with a psycopg2 placeholder per parameter, in order."""
        count = max(int(number) for number in re.findall(r"\$(\d+)", self.body))
        return f"EXECUTE {self.name}(" + ", ".join(["%s"] * count) + ")"


class Plans:
    """One connection's prepared statements (the runner's): what a new connection is sent,
    and when their plans are made again."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.definitions: Sequence[str] = ()
        self._clock = clock
        self._due = 0.0  # when the plans are to be made again

    def session(self) -> str | None:
        """What a new connection is sent, in one round trip, if there is anything to prepare:
        DEALLOCATE ALL (the same names, prepared already), GENERIC, each PREPARE."""
        if not self.definitions:
            return None
        self._due = self._clock() + REPLAN
        return "; ".join(["DEALLOCATE ALL", GENERIC, *self.definitions])

    def renewal(self) -> list[str]:
        """What to send with a transaction's BEGIN: DISCARD PLANS once REPLAN has passed."""
        if not self.definitions or self._clock() < self._due:
            return []
        self._due = self._clock() + REPLAN
        return ["DISCARD PLANS"]
