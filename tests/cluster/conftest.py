"""Fixtures of the cluster tests: nodes (real server processes) on one fresh PostgreSQL
database, started at once, each named (--node) so that its listening session can be
found in pg_stat_activity."""

import pytest
from backends import Backend, Postgres
from postgres import Cluster
from wire import ServerFactory, ServerProcess

from cluster.kit import Nodes


@pytest.fixture(scope="module")
def backend(postgres_cluster: Cluster) -> Backend:
    """Every server here runs on PostgreSQL: SQLite cannot hold several nodes."""
    return Postgres(postgres_cluster)


@pytest.fixture
def nodes(server_factory: ServerFactory) -> Nodes:
    def start(count: int, *args: str) -> list[ServerProcess]:
        return server_factory.start_at_once(count, lambda index: ("--node", f"node-{index}",
                                                                  *args))
    return start

