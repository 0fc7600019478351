"""The chat rules, a module per subject, and the table that says what each frame may do.

accounts.py (01, 20, 03, 14, 15), messages.py (05, 12), groups.py (10, and who is
in a group), reads.py (08), blocks.py (17, 18), info.py (25), presence.py (27,
28, 29, and 01 and 03 for presence); context.py is what every rule is handed, table.py
the one table of handlers and policies. A rule checks everything before it
writes, so a refusal leaves no rows behind.

Knows users, groups, queues and sessions through the store's plain API and
sessions.py; knows no sockets, no SQL and no transaction (service.py's).
"""

from interzap_server.rules.context import Context, Unit
from interzap_server.rules.table import RULES, Item, Policy, Rule

__all__ = ["RULES", "Context", "Item", "Policy", "Rule", "Unit"]
