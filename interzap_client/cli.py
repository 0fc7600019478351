"""Command line: arguments -> the full-screen UI, a scripted session, or an export.

`interzap-client [options]` opens the full-screen client when stdin is a
terminal, and runs a script when it is not (or with --script FILE);
`interzap-client [options] export FILE` writes the history in the original's
backup format without touching the network. Refuses to know the chat rules.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from interzap_client import profile
from interzap_client.history import History, export, write_export
from interzap_client.network import KEEPALIVE
from interzap_client.servers import AddressError, parse_servers
from interzap_client.session import Session
from interzap_client.state import State
from shared.codes import DEFAULT_PORT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 30.0


def _servers(text: str) -> str:
    """A --server value, checked as it is read (its ports are filled in later from --port)."""
    try:
        parse_servers([text], DEFAULT_PORT)
    except AddressError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interzap-client",
        description="Interzap terminal messenger. Full screen on a terminal; scripted "
                    "(one command a line in, one event a line out) when stdin is not one.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="server host (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="server port (default %(default)s; also of a --server without one)")
    parser.add_argument("--server", action="append", metavar="HOST:PORT", type=_servers,
                        help="a server of several nodes, instead of --host/--port; repeat it or "
                             "give a comma list: the client uses the first and, when it stops "
                             "answering, fails over to the next")
    parser.add_argument("--keepalive", type=float, default=KEEPALIVE, metavar="SECONDS",
                        help="silence before a ping, and again before giving up on the server "
                             "(default %(default)g)")
    parser.add_argument("--data-dir", help="accounts and history (default $INTERZAP_HOME, "
                                           "else ~/.local/share/interzap)")
    parser.add_argument("--account", metavar="ID", help="log in as ID (token from the data dir)")
    parser.add_argument("--token", help="the token for --account or /login (stored on success)")
    parser.add_argument("--script", metavar="FILE", help="run the commands in FILE")
    parser.add_argument("--json", action="store_true", help="scripted: one JSON object a line")
    parser.add_argument("--stay", action="store_true",
                        help="scripted: after the end of input, go on (a bot that listens) "
                             "until SIGTERM or Ctrl-C")
    parser.add_argument("--no-bell", action="store_true", help="no terminal bell on arrivals")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds a /wait, /register or /login may take (default %(default)g)")
    sub = parser.add_subparsers(dest="command")
    exporter = sub.add_parser("export", help="write the history as JSON (the original's format)")
    exporter.add_argument("file", help="where to write it; - for stdout")
    exporter.add_argument("--data-dir", default=argparse.SUPPRESS)
    exporter.add_argument("--account", metavar="ID", default=argparse.SUPPRESS)
    return parser


def run_export(root: Path, account: str | None, target: str) -> int:
    ident = profile.choose_account(root, account)
    if ident is None:
        known = ", ".join(profile.list_accounts(root)) or "none"
        print(f"interzap-client: choose an account with --account (stored: {known})",
              file=sys.stderr)
        return 2
    state = State(ident)
    history = History(profile.account_dir(root, ident), state, readonly=True)
    for warning in history.warnings:
        print(f"interzap-client: warning: {warning}", file=sys.stderr)
    if target == "-":
        print(json.dumps(export(state), ensure_ascii=False, indent=2))
    else:
        write_export(state, Path(target).expanduser())
    return 0


def new_session(args: argparse.Namespace, root: Path) -> Session:
    """The session the arguments ask for: on --host/--port, or on the --server list."""
    first, *others = parse_servers(args.server or [f"{args.host}:{args.port}"], args.port)
    return Session(root, first.host, first.port, token=args.token, fallbacks=others,
                   keepalive=args.keepalive)


async def _scripted(args: argparse.Namespace, root: Path) -> int:
    from interzap_client import script

    session = new_session(args, root)
    lines = script.file_lines(args.script) if args.script else script.stdin_lines()
    return await script.run(session, lines, sys.stdout, as_json=args.json,
                            timeout=args.timeout, account=args.account, stay=args.stay)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="interzap-client: %(message)s")
    root = profile.data_dir(args.data_dir)
    try:
        if args.command == "export":
            raise SystemExit(run_export(root, args.account, args.file))
        if args.account:
            profile.check_id(args.account)
        if args.script or sys.stdin is None or not sys.stdin.isatty():
            raise SystemExit(asyncio.run(_scripted(args, root)))
        from interzap_client.ui.app import run_ui

        raise SystemExit(asyncio.run(run_ui(args, root)))
    except profile.ProfileError as exc:
        print(f"interzap-client: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except BrokenPipeError:
        # the reader of our output left (`| head`): no traceback, and none at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
