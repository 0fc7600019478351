"""The test session's throwaway PostgreSQL cluster: bench/pgcluster.py, which the bench
shares (`make bench ARGS=--postgres`); the tests import it by this name."""

from bench.pgcluster import INSTALL_HINT, Cluster, find_bindir

__all__ = ["INSTALL_HINT", "Cluster", "find_bindir"]
