"""Several server nodes on one PostgreSQL database (issue 16, docs/SCALING.md): live
delivery between nodes, order, the shared truths, one session per user, and the faults of
a cluster. PostgreSQL only (the session's throwaway cluster, tests/postgres.py)."""
