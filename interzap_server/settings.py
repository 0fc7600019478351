"""The server's settings: one frozen value made from the command line."""

from dataclasses import dataclass
from ipaddress import ip_network

from interzap_server.limits import Network
from shared.codes import DEFAULT_PORT


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: str = "interzap.db"
    """A file path (SQLite) or a peewee database URL (sqlite:///path, postgresql://...)."""
    sync: str = "full"
    """Durability: "full" survives a power cut, "normal" only a crash of the server (SQLite's
    synchronous; PostgreSQL's synchronous_commit, on or off, for the server's connections)."""
    log_level: str = "info"
    output_cap: int = 1024 * 1024
    """Bytes queued for a connection that does not read before it is cut off."""
    max_connections: int = 10_000
    """Connections beyond this get 13/13 and are closed; 0 means no limit."""
    max_queue: int = 10_000
    """Frames owed to one user beyond which a 05 to that user is refused with 13/14."""
    rate_limit: float = 100.0
    """Frames a second a connection may start (12 and 15 are free); 0 turns the limit off."""
    rate_burst: int = 200
    """Frames a connection may send at once before the rate limit bites."""
    flood_ban: float = 10.0
    """Seconds an address cut for flooding is refused new connections; 0: never."""
    trusted: tuple[Network, ...] = (ip_network("127.0.0.0/8"), ip_network("::1"))
    """Networks never banned for flooding (their flooders are still cut)."""
    login_timeout: float = 10.0
    """Seconds a connection may stay without logging in; 0 means forever."""
    idle_ping: float = 60.0
    """Seconds of silence after which a logged-in connection gets a 14; 0 never pings."""
    ping_timeout: float = 30.0
    """Seconds to answer that 14 (with anything) before the connection is closed."""
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_port: int | None = None
    """With a certificate: the TLS port; without it, --port itself speaks TLS."""
    max_per_address: int = 64
    """Connections one address (an IPv6 /64) may hold; more get 13/17; 0 means no limit."""
    register_burst: int = 60
    """Accounts one address may register at once before 01s get 13/16; 0: no limit."""
    register_per_hour: float = 20.0
    """... and then this many an hour."""
    failed_login_burst: int = 30
    """Failed logins one address may have at once before its 03s get 13/18; 0: no limit."""
    failed_logins_per_hour: float = 360.0
    """... and then this many an hour."""
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    """Serve the metrics page (Prometheus text) over HTTP on this port; None: not at all."""
    housekeeping_interval: float = 3600.0
    """Seconds between passes that forget old message keys."""
    node: str | None = None
    """This node's name in every log line and in PostgreSQL's pg_stat_activity; None:
    the host's name and the port (docs/SCALING.md)."""
    reuse_port: bool = False
    """SO_REUSEPORT: several nodes on one machine listen on one port, the kernel spreading
    the connections among them."""
