"""Benchmarks of the Interzap server against a bare baseline router (`make bench`, bench/README.md).

Not part of the test suite and not installed with the package: the harness
starts servers as subprocesses on 127.0.0.1 and drives them with real TCP
clients that speak the protocol through `shared`.
"""
