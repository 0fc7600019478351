"""The server's settings: one frozen value made from the command line."""

from dataclasses import dataclass

DEFAULT_PORT = 9070


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: str = "interzap.db"
    """A file path (SQLite) or a peewee database URL (sqlite:///path, postgresql://...)."""
    sync: str = "full"
    """SQLite synchronous mode: "full" survives a power cut, "normal" only a crash."""
    log_level: str = "info"
    output_cap: int = 1024 * 1024
    """Bytes queued for a connection that does not read before it is cut off."""
    housekeeping_interval: float = 3600.0
    """Seconds between passes that forget old message keys."""
