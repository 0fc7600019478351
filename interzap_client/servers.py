"""The servers a client may use, and which one to dial next: round robin over a list.

Several Interzap nodes may serve one database (README, "Running several
nodes"); a client is given all of them (`--server HOST:PORT`, repeatable, or a
comma list) and uses one at a time. When the one in use stops answering, the
next one in the list is dialled at once; only after every server of the list
has failed in a row does the connection back off (network.py), so a dead node
costs one failed dial, not a backoff. Refuses to know about sockets and time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class AddressError(ValueError):
    """A --server value that is not HOST:PORT (or HOST)."""


@dataclass(frozen=True, slots=True)
class Address:
    """One server: where to dial it."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal
        return f"{host}:{self.port}"


def parse_address(text: str, default_port: int) -> Address:
    """'host:port', '[::1]:port', or a bare host (then `default_port`)."""
    text = text.strip()
    if text.startswith("["):  # [IPv6]:port
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise AddressError(f"not HOST:PORT: {text!r}")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""  # a bare name, or a bare IPv6 literal
    if not host:
        raise AddressError(f"no host in {text!r}")
    if not port_text:
        return Address(host, default_port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise AddressError(f"not a port: {port_text!r} in {text!r}")
    return Address(host, int(port_text))


def parse_servers(values: Iterable[str], default_port: int) -> list[Address]:
    """Every address of the --server values (each one address or a comma list), in order,
    each once."""
    found: list[Address] = []
    for value in values:
        for item in value.split(","):
            if item.strip():
                address = parse_address(item, default_port)
                if address not in found:
                    found.append(address)
    if not found:
        raise AddressError("no server given")
    return found


class Rotation:
    """The server in use, and the next one after a failure (round robin)."""

    def __init__(self, servers: Sequence[Address]) -> None:
        if not servers:
            raise AddressError("no server given")
        self.servers = tuple(servers)
        self._index = 0
        self._misses = 0  # servers that failed in a row since the round began

    @property
    def current(self) -> Address:
        return self.servers[self._index]

    def fresh(self) -> None:
        """The server in use proved good (a link that lasted): a new round begins."""
        self._misses = 0

    def failed(self) -> bool:
        """The server in use failed (a dial, or a link that dropped): move to the next.
        True when every server has failed in a row, and the caller should back off."""
        self._misses += 1
        self._index = (self._index + 1) % len(self.servers)
        if self._misses < len(self.servers):
            return False
        self._misses = 0
        return True
