"""Fixtures of the server's in-process tests: Nodes (rules_kit.py) on one database file."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.rules_kit import Node, NodeFactory


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeFactory]:
    """Make Nodes, each a server process on the test's one SQLite file; all closed at the end."""
    made: list[Node] = []

    def make(shared: bool = False, max_queue: int = 10_000, registration: str = "open") -> Node:
        made.append(Node(tmp_path / "interzap.db", shared, max_queue, registration))
        return made[-1]

    try:
        yield make
    finally:
        for each in made:
            each.close()
