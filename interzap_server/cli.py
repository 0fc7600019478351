"""Command line -> Settings -> a running server (`interzap-server`, `python -m interzap_server`)."""

import argparse
import ipaddress
import logging
import socket
import ssl
import sys
from collections.abc import Sequence
from urllib.parse import urlparse

from interzap_server import config, heap
from interzap_server.limits import Network
from interzap_server.loop import Server
from interzap_server.service import Service
from interzap_server.sessions import LOW_WATER, Sessions
from interzap_server.settings import Settings
from interzap_server.storage import StorageError, Store, open_store
from interzap_server.storage.solo import AlreadyServed, claim
from shared.codes import DEFAULT_PORT

log = logging.getLogger("interzap_server")

ALREADY_SERVED = 3
"""The exit code when another server already serves the SQLite file (storage/solo.py)."""


def networks(text: str) -> tuple[Network, ...]:
    """`--trusted`: a comma list of networks (10.0.0.0/8) or addresses (::1); '' is none."""
    try:
        return tuple(ipaddress.ip_network(item.strip()) for item in text.split(",")
                     if item.strip())
    except ValueError as exc:  # the message names the item: "... does not appear to be ..."
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    d = Settings()
    parser = argparse.ArgumentParser(
        prog="interzap-server", description="The Interzap chat server (see PROTOCOL.md).")
    add = parser.add_argument
    add("--host", default=d.host,
        help="address to listen on; 0.0.0.0 for every interface (default %(default)s)")
    add("--port", type=int, default=DEFAULT_PORT,
        help="TCP port; 0 picks a free one (default %(default)s)")
    add("--db", default=d.db,
        help="SQLite file, or a database URL such as sqlite:///path or "
             "postgresql://user@host/db (default %(default)s)")
    add("--sync", choices=("full", "normal"), default=d.sync,
        help="durability of what is answered: full survives a power cut (SQLite "
             "synchronous=FULL, PostgreSQL synchronous_commit=on), normal only a crash of "
             "the server (NORMAL; off, so a crash of PostgreSQL may lose the last commits) "
             "(default %(default)s)")
    add("--output-cap", type=int, default=d.output_cap, metavar="BYTES",
        help="disconnect a client once this much output waits for it (default %(default)s)")
    add("--max-connections", type=int, default=d.max_connections, metavar="N",
        help="refuse connections beyond N with 13/13; 0: no limit (default %(default)s)")
    add("--max-queue", type=int, default=d.max_queue, metavar="N",
        help="refuse 05s to a user who is owed N frames, with 13/14 (default %(default)s)")
    add("--rate-limit", type=float, default=d.rate_limit, metavar="PER_SECOND",
        help="frames a second one connection may send (15s, and 12s that acknowledge a "
             "06, are free); "
             "0 turns it off (default %(default)s)")
    add("--rate-burst", type=int, default=d.rate_burst, metavar="N",
        help="frames a connection may send at once (default %(default)s)")
    add("--flood-ban", type=float, default=d.flood_ban, metavar="SECONDS",
        help="refuse new connections from an address cut for flooding for this long; "
             "0: never (default %(default)s)")
    add("--trusted", type=networks, default=d.trusted, metavar="NETS",
        help="comma list of networks never banned for flooding (their flooders are still "
             "cut); '' trusts none (default " + ",".join(map(str, d.trusted)) + ")")
    add("--login-timeout", type=float, default=d.login_timeout, metavar="SECONDS",
        help="close connections not logged in by then; 0: never (default %(default)s)")
    add("--idle-ping", type=float, default=d.idle_ping, metavar="SECONDS",
        help="ping a logged-in connection silent this long; 0: never (default %(default)s)")
    add("--ping-timeout", type=float, default=d.ping_timeout, metavar="SECONDS",
        help="close a pinged connection silent this long (default %(default)s)")
    add("--tls-cert", metavar="FILE", help="PEM certificate chain: speak TLS")
    add("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    add("--tls-port", type=int, metavar="PORT",
        help="serve TLS on this port and plain TCP on --port; without it, --port is TLS")
    add("--log-level", default=d.log_level, choices=("debug", "info", "warning", "error"),
        help="(default %(default)s)")
    add_public_options(parser, d)
    add_cluster_options(parser, d)
    args = parser.parse_args(argv)
    if args.config is not None:
        try:
            parser.set_defaults(**config.load(args.config, parser))
        except config.ConfigError as exc:
            parser.error(str(exc))
        args = parser.parse_args(argv)  # the command line wins over the file
    for rate in ("register_per_hour", "failed_logins_per_hour"):
        if getattr(args, rate) <= 0:
            parser.error(f"--{rate.replace('_', '-')} must be more than 0")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_port is not None and args.tls_cert is None:
        parser.error("--tls-port needs --tls-cert and --tls-key")
    if args.cluster and not urlparse(args.db).scheme.startswith("postgres"):
        parser.error("--cluster needs a PostgreSQL --db: SQLite cannot tell one server "
                     "what another wrote")
    return Settings(
        host=args.host, port=args.port, db=args.db, sync=args.sync, log_level=args.log_level,
        output_cap=args.output_cap, max_connections=args.max_connections,
        max_queue=args.max_queue, rate_limit=args.rate_limit, rate_burst=args.rate_burst,
        flood_ban=args.flood_ban, trusted=args.trusted,
        login_timeout=args.login_timeout, idle_ping=args.idle_ping,
        ping_timeout=args.ping_timeout, tls_cert=args.tls_cert, tls_key=args.tls_key,
        tls_port=args.tls_port, max_per_address=args.max_per_address,
        register_burst=args.register_burst, register_per_hour=args.register_per_hour,
        failed_login_burst=args.failed_login_burst,
        failed_logins_per_hour=args.failed_logins_per_hour,
        metrics_host=args.metrics_host, metrics_port=args.metrics_port,
        node=args.node, cluster=args.cluster, reuse_port=args.reuse_port,
        registration=args.registration)


def add_cluster_options(parser: argparse.ArgumentParser, d: Settings) -> None:
    """The options of several nodes on one PostgreSQL database (docs/SCALING.md)."""
    add = parser.add_argument
    add("--cluster", action="store_true", default=d.cluster,
        help="one node of several on one PostgreSQL database (every node needs it)")
    add("--node", default=d.node, metavar="NAME",
        help="this node's name in every log line (default: the host's name and the port)")
    add("--reuse-port", action="store_true", default=d.reuse_port,
        help="SO_REUSEPORT: several nodes on one machine share one port")


def add_public_options(parser: argparse.ArgumentParser, d: Settings) -> None:
    """The options a server open to strangers needs: per-address limits (addresses.py),
    the registration mode (rules/accounts.py), metrics (metrics.py) and the configuration
    file (config.py)."""
    add = parser.add_argument
    add("--max-per-address", type=int, default=d.max_per_address, metavar="N",
        help="connections one address (an IPv6 /64) may hold; more get 13/17; "
             "0: no limit (default %(default)s)")
    add("--register-burst", type=int, default=d.register_burst, metavar="N",
        help="accounts one address may register at once, before 01s get 13/16; "
             "0: no limit (default %(default)s)")
    add("--register-per-hour", type=float, default=d.register_per_hour, metavar="N",
        help="... and then this many an hour (default %(default)s)")
    add("--failed-login-burst", type=int, default=d.failed_login_burst, metavar="N",
        help="failed logins one address may have at once, before its 03s get 13/18 "
             "unchecked; 0: no limit (default %(default)s)")
    add("--failed-logins-per-hour", type=float, default=d.failed_logins_per_hour,
        metavar="N", help="... and then this many an hour (default %(default)s)")
    add("--registration", choices=("open", "invite", "closed"), default=d.registration,
        help="who may make an account: anyone (open), holders of an invite code made with "
             "interzap-admin invite (invite), nobody (closed) (default %(default)s)")
    add("--metrics-port", type=int, metavar="PORT",
        help="serve metrics (Prometheus text format) at http://HOST:PORT/metrics; "
             "0 picks a free port (default: off)")
    add("--metrics-host", default=d.metrics_host, metavar="HOST",
        help="address the metrics port listens on (default %(default)s)")
    add("--config", metavar="FILE",
        help="a TOML file of options (keys: option names without the dashes); "
             "the command line wins")


def raise_fd_limit(connections: int) -> None:
    """Allow enough descriptors for `connections` (or as many as the hard limit allows)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise (its select() takes 512 sockets)
        log.debug("no resource module: the file descriptor limit is left as it is")
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 64 if connections else hard
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the file descriptor limit to %d: %s", wanted, exc)
            return
    log.debug("file descriptor limit: %d", max(wanted, soft))


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


class NodeName(logging.Filter):
    """Puts the node's name into every log record (`%(node)s`)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def filter(self, record: logging.LogRecord) -> bool:
        record.node = self.name
        return True


def log_as_node(settings: Settings) -> NodeName:
    """Log to stderr, each line naming the node (named for now after the port asked for)."""
    node = NodeName(settings.node or f"{socket.gethostname()}:{settings.port}")
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(node)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(node)
    return node


def open_database(settings: Settings, node: str) -> Store:
    """The store: this process's alone (a second server is refused: solo.py for SQLite, an
    advisory lock on PostgreSQL), or with --cluster one node's of several on PostgreSQL
    (docs/SCALING.md)."""
    claim(settings.db)  # held until the process ends
    return open_store(settings.db, settings.sync, shared=settings.cluster, node=node)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    node = log_as_node(settings)
    raise_fd_limit(settings.max_connections)
    try:
        tls = tls_context(settings)
    except (OSError, ssl.SSLError) as exc:
        log.error("cannot load the TLS certificate or key: %s", exc)
        return 1
    try:
        store = open_database(settings, node.name)
    except AlreadyServed as exc:
        log.error("%s", exc)
        return ALREADY_SERVED
    except StorageError as exc:
        log.error("%s", exc)
        return 1
    sessions = Sessions(store, low_water=min(LOW_WATER, settings.output_cap // 4))
    service = Service(store, sessions, max_queue=settings.max_queue,
                      registration=settings.registration)
    try:
        server = Server(settings, service, tls)
    except OSError as exc:
        log.error("cannot listen on %s: %s", settings.host, exc)
        store.close()
        return 1
    if settings.node is None:
        node.name = f"{socket.gethostname()}:{server.addresses[0][1]}"

    def announce() -> None:  # open_store said what the database really does
        for index, (host, port) in enumerate(server.addresses):
            secure = tls is not None and (index == 1 or settings.tls_port is None)
            print(f"listening on {host}:{port}" + (" tls" if secure else ""), flush=True)
        if server.metrics_address is not None:
            print("metrics on {}:{}".format(*server.metrics_address), flush=True)

    heap.settle()  # the loop collects cycles between its iterations (heap.py)
    try:
        server.serve_forever(on_ready=announce)
    finally:
        store.close()
    return 0
