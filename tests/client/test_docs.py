"""The README against the code: every command of COMMANDS in a command table, every event
the client can print in the event table and nothing documented that it cannot; /help and
Tab completion know every command (they read COMMANDS; this checks that they still do)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from clientkit import ROOT

from interzap_client import commands as cmd
from interzap_client.ui.pager import Line
from interzap_client.ui.panels import help_panel

README = (ROOT / "README.md").read_text()


def table_cells(header: str) -> Iterator[str]:
    """The first cell of each row of every README table whose header row is `header`."""
    lines = README.splitlines()
    for at, line in enumerate(lines):
        if line == header:
            for row in lines[at + 2:]:
                if not row.startswith("|"):
                    break
                yield re.split(r"(?<!\\)\|", row)[1]


def test_readme_lists_every_command() -> None:
    documented = {name for cell in table_cells("| command | |")
                  for name in re.findall(r"`(/[a-z]+)", cell)}
    assert len(documented) > 20
    assert set(cmd.COMMANDS) - documented == set()
    assert documented - set(cmd.COMMANDS) == set()


def test_help_and_completion_know_every_command() -> None:
    lines: tuple[Line, ...] = help_panel(None).lines  # type: ignore[arg-type]
    shown = {line[0][1].split()[0] for line in lines if line[0][0] == "class:panel.command"}
    assert shown == set(cmd.COMMANDS)
    assert {c.strip() for c in cmd.complete("/", [])} == set(cmd.COMMANDS)


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def emitted_events() -> set[str]:
    """Every event name the client's code gives a Notice: a literal first argument of
    Notice(...), the values of the tables named *_EVENTS, the words lifecycle.py passes."""
    names: set[str] = set()
    for path in (ROOT / "interzap_client").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "Notice" and node.args:
                names |= _strings(node.args[0])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "_logged_in_as":
                names |= _strings(node.args[1])
            elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id.endswith("_EVENTS") for t in targets):
                    names |= {v.value for v in node.value.values
                              if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return names


def test_readme_documents_every_event() -> None:
    documented = {name for cell in table_cells("| event | fields (JSON) | text line |")
                  for name in re.findall(r"`([a-z_]+)`", cell)}
    emitted = emitted_events()
    assert {"logged_in", "reconnected", "edited", "accepted", "receipts"} <= emitted
    assert emitted - documented == set()
    assert documented - emitted == set()
