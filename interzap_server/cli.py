"""Command line -> Settings -> a running server (`interzap-server`, `python -m interzap_server`)."""

import argparse
import logging
import sys
from collections.abc import Sequence

from interzap_server.loop import Server
from interzap_server.service import LOW_WATER, Service
from interzap_server.settings import DEFAULT_PORT, Settings
from interzap_server.storage import StorageError, open_store


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="interzap-server", description="The Interzap chat server (see PROTOCOL.md).")
    parser.add_argument("--host", default=defaults.host,
                        help="address to listen on; 0.0.0.0 for every interface "
                             "(default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="TCP port; 0 picks a free one (default %(default)s)")
    parser.add_argument("--db", default=defaults.db,
                        help="SQLite file, or a database URL such as sqlite:///path or "
                             "postgresql://user@host/db (default %(default)s)")
    parser.add_argument("--sync", choices=("full", "normal"), default=defaults.sync,
                        help="SQLite durability: full survives a power cut, normal only a "
                             "crash of the server (default %(default)s)")
    parser.add_argument("--output-cap", type=int, default=defaults.output_cap, metavar="BYTES",
                        help="disconnect a client once this much output waits for it "
                             "(default %(default)s)")
    parser.add_argument("--log-level", default=defaults.log_level,
                        choices=("debug", "info", "warning", "error"),
                        help="(default %(default)s)")
    args = parser.parse_args(argv)
    return Settings(host=args.host, port=args.port, db=args.db, sync=args.sync,
                    log_level=args.log_level, output_cap=args.output_cap)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("interzap_server")
    try:
        store = open_store(settings.db, settings.sync)
    except StorageError as exc:
        log.error("%s", exc)
        return 1
    service = Service(store, low_water=min(LOW_WATER, settings.output_cap // 4))
    try:
        server = Server(settings, service)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
        store.close()
        return 1
    host, port = server.address

    def announce() -> None:
        log.info("serving %s:%d with database %s (sync=%s)", host, port, settings.db,
                 settings.sync)
        print(f"listening on {host}:{port}", flush=True)

    try:
        server.serve_forever(on_ready=announce)
    finally:
        store.close()
    return 0
