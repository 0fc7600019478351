"""`interzap-admin [--db URL | --config FILE] [--json] COMMAND`: one command, then exit.

Every command is a row of COMMANDS: its function gets the Admin and the parsed
arguments and returns what to print, as a table and as JSON. Exit status 0, or
1 with one line on stderr saying what went wrong and what to do.
"""

import argparse
import os
import re
import secrets
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from interzap_server.admin.output import as_json, table, when
from interzap_server.rules.accounts import hash_token
from interzap_server.settings import Settings
from interzap_server.storage import Admin, AdminError, StorageError, open_admin

Result = tuple[str, Any]
"""What a command found: the text for people, the value for --json."""

_SPAN = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def span(text: str) -> int:
    """`--expires`: seconds, or a number with s, m, h or d (7d, 12h)."""
    match = _SPAN.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 7d, 12h or 30m")
    return int(match[1]) * _UNITS[match[2]]


def users(admin: Admin, args: argparse.Namespace) -> Result:
    rows = admin.users()
    return (table(("id", "name", "state", "created", "last login", "queued"),
                  [(r.id, r.name, r.state, when(r.created), when(r.last_login), r.queued)
                   for r in rows]),
            [asdict(r) for r in rows])


def queue(admin: Admin, args: argparse.Namespace) -> Result:
    rows = admin.queue(args.id)
    return (table(("seq", "frame"), rows),
            [{"seq": seq, "frame": code} for seq, code in rows])


def invite(admin: Admin, args: argparse.Namespace) -> Result:
    now = int(time.time())
    codes = admin.make_invites(args.count, now + args.expires, now)
    text = "\n".join([*codes, f"valid until {when(now + args.expires)} UTC, once each; "
                      "register with: /register CODE"])
    return text, {"codes": codes, "expires": now + args.expires}


def invites(admin: Admin, args: argparse.Namespace) -> Result:
    rows = admin.invites()
    now = int(time.time())
    return (table(("code", "created", "expires", "used", "by"),
                  [(r.code, when(r.created), when(r.expires),
                    when(r.used) if r.used else ("expired" if r.expires <= now else "-"),
                    r.user) for r in rows]),
            [asdict(r) for r in rows])


def reset_token(admin: Admin, args: argparse.Namespace) -> Result:
    token = secrets.token_hex(16)
    admin.reset_token(args.id, hash_token(token), int(time.time()))
    return (f"{args.id} {token}\nthe new token, shown this once; the old one no longer "
            "works, and a session it opened is closed", {"id": args.id, "token": token})


def disable(admin: Admin, args: argparse.Namespace) -> Result:
    changed = admin.disable(args.id, int(time.time()))
    text = (f"{args.id} disabled: its logins are refused (13/22), a running server closes "
            "its session within a second, messages to it are refused (13/05)"
            if changed else f"{args.id} was already disabled")
    return text, {"id": args.id, "state": "disabled", "changed": changed}


def enable(admin: Admin, args: argparse.Namespace) -> Result:
    changed = admin.enable(args.id, int(time.time()))
    text = f"{args.id} enabled" if changed else f"{args.id} was not disabled"
    return text, {"id": args.id, "state": "active", "changed": changed}


def delete(admin: Admin, args: argparse.Namespace) -> Result:
    dropped = admin.delete(args.id, int(time.time()))
    return (f"{args.id} deleted: {dropped} queued frame(s) dropped, its blocks and read marks "
            "removed; its number is never given again",
            {"id": args.id, "state": "deleted", "dropped": dropped})


def groups(admin: Admin, args: argparse.Namespace) -> Result:
    rows = admin.groups()
    return (table(("id", "name", "creator", "created", "members"),
                  [(r.id, r.name, r.creator, when(r.created), " ".join(r.members))
                   for r in rows]),
            [asdict(r) for r in rows])


def stats(admin: Admin, args: argparse.Namespace) -> Result:
    found = admin.stats()
    figures: list[tuple[str, int | str]] = [
        ("users", found.users), ("disabled", found.disabled), ("groups", found.groups),
        ("queued frames", found.queues.queued),
        *((f"largest queue {rank}", f"{user} {count}")
          for rank, (user, count) in enumerate(found.queues.largest, 1)),
    ]
    value = asdict(found)
    value["queues"]["largest"] = [{"id": user, "queued": count}
                                  for user, count in found.queues.largest]
    return "\n".join(f"{name:<16} {figure}" for name, figure in figures), value


Command = Callable[[Admin, argparse.Namespace], Result]
COMMANDS: tuple[tuple[str, str, Command], ...] = (
    ("users", "list the accounts: state, created, last login, frames queued", users),
    ("queue", "list the frames owed to an account (their codes, oldest first)", queue),
    ("invite", "make one-time invite codes (--registration invite)", invite),
    ("invites", "list the invite codes, used or not", invites),
    ("reset-token", "give an account a new token (printed once); the old one stops working",
     reset_token),
    ("disable", "refuse an account's logins (13/22) and close its session", disable),
    ("enable", "let a disabled account log in again", enable),
    ("delete", "delete a disabled account that is in no group (README, Administration)",
     delete),
    ("groups", "list the groups and their members", groups),
    ("stats", "users, groups, frames queued, the largest queues", stats),
)
"""Every command: name, help, function."""
TAKES_ID = frozenset({"queue", "reset-token", "disable", "enable", "delete"})


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="interzap-admin",
        description="Administer an Interzap server's database, while it runs or not.")
    top.add_argument("--db", help="the server's --db (default: the --config file's db, "
                                  f"else {Settings().db})")
    top.add_argument("--config", metavar="FILE", help="the server's TOML file: its db is used")
    top.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, function in COMMANDS:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(function=function)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                         help="print JSON instead of a table (here or before COMMAND)")
        if name in TAKES_ID:
            sub.add_argument("id", metavar="ID", help="a user id, like Client-000001")
        elif name == "invite":
            sub.add_argument("--expires", type=span, default=span("7d"), metavar="SPAN",
                             help="valid for this long: 30m, 12h, 7d (default 7d)")
            sub.add_argument("--count", type=int, default=1, choices=range(1, 1001),
                             metavar="N", help="how many codes (1 to 1000, default 1)")
    return top


def database(args: argparse.Namespace) -> str:
    """--db, else the db of --config, else the server's default."""
    if args.db is not None:
        return str(args.db)
    if args.config is not None:
        try:
            with open(args.config, "rb") as file:
                db = tomllib.load(file).get("db")
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AdminError(f"cannot read {args.config}: {exc}") from None
        if isinstance(db, str):
            return db
    return Settings().db


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        admin = open_admin(database(args))
    except (AdminError, StorageError) as exc:
        print(f"interzap-admin: {exc}", file=sys.stderr)
        return 1
    try:
        text, value = args.function(admin, args)
    except AdminError as exc:
        print(f"interzap-admin: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"interzap-admin: the database failed, nothing was changed: {exc}",
              file=sys.stderr)
        return 1
    finally:
        admin.close()
    try:
        print(as_json(value) if args.json else text, flush=True)
    except BrokenPipeError:  # `| head` read what it wanted: not an error (Python's advice)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
