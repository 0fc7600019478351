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
11 executions). Hence force_generic_plan: each connection plans each statement
once, and again only when ANALYZE, VACUUM or DDL invalidates it. That one plan
must be good whatever the tables hold until then, and the planner makes it
from the table sizes of the moment: on fresh tables (a page each) it chose a
sequential scan of the queue, which then cost 10-11 ms an execution once the
queue held 100,000 rows, where an index probe costs 50 us (bench/README.md,
"Session 9"). Hence enable_seqscan = off on these connections: every
statement the store runs looks rows up by a key, and one that has no index to
use is still run with a sequential scan. And every per-user lookup is a
correlated subquery, or an `= ANY($n)` condition, on a primary key: at 1,000
users a join with the unnested array was planned as a hash join over all the
heads. Checked with EXPLAIN EXECUTE after the store ran them, on fresh tables
and at 100, 1,000 and 10,000 users.

Knows PREPARE and EXECUTE; knows no tables (statements.py writes the bodies).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

SETTINGS = ("SET plan_cache_mode = force_generic_plan", "SET enable_seqscan = off")
"""Per connection (theory of operation): a prepared statement is planned once, not once
per execution, and never as a sequential scan that a growing table would outlive."""


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


def session(definitions: Iterable[str]) -> str:
    """What to send on a new connection, in one round trip: forget what it may have prepared
    already (the same names), the SETTINGS, PREPARE each definition."""
    return "; ".join(["DEALLOCATE ALL", *SETTINGS, *definitions])
