"""Fault tests: kill -9 of the server and of clients, a database that refuses writes or is
locked, a journal cut short. Small sizes here (`make test`); soak/faults.py runs the same
scenarios at full size (`make soak`)."""
