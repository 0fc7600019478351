"""Fixtures of the cluster tests: nodes (real server processes) on one fresh PostgreSQL
database, started at once, each named (--node) so that its listening session can be
found in pg_stat_activity; and a pair of nodes in process (rules_kit), without sockets."""

from collections.abc import Iterator

import pytest
from backends import Backend, Postgres
from postgres import Cluster
from server.rules_kit import Node
from wire import ServerFactory, ServerProcess

from cluster.kit import Nodes


@pytest.fixture(scope="module")
def backend(postgres_cluster: Cluster) -> Backend:
    """Every server here runs on PostgreSQL: SQLite cannot hold several nodes."""
    return Postgres(postgres_cluster)


@pytest.fixture
def nodes(server_factory: ServerFactory) -> Nodes:
    def start(count: int, *args: str) -> list[ServerProcess]:
        return server_factory.start_at_once(count, lambda index: ("--cluster", "--node",
                                                                  f"node-{index}",
                                                                  *args))
    return start


@pytest.fixture
def pair(postgres_cluster: Cluster) -> Iterator[tuple[Node, Node]]:
    """Two nodes in this process on one fresh database, closed after the test."""
    url = postgres_cluster.create_database()
    nodes = (Node(url, shared=True), Node(url, shared=True))
    try:
        yield nodes
    finally:
        for node in nodes:
            node.close()
        postgres_cluster.drop_database(url)

