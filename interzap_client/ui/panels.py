"""What /help and /contacts show: a Panel over the chat, which stays open beneath it.

The scripted mode prints the same facts as notices (actions.py); here they
are written for a person: aliases first, "you" among a group's members.
Refuses to know about the layout and the keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from interzap_client import commands as cmd
from interzap_client import intents
from interzap_client.people import admins_of
from interzap_client.search import Hit, spans
from interzap_client.session import Session, SessionError
from interzap_client.state import State
from interzap_client.ui.pager import Line
from interzap_client.ui.view import Panel
from interzap_client.ui.words import named, people, person
from shared.ids import is_group_id

CLOSE = "Esc closes"


def help_panel(session: Session) -> Panel:
    """One line per command, from the table parse() reads, then the keys."""
    lines: list[Line] = [[("class:panel.command", f"{c.name} {c.usage}".rstrip()),
                          ("class:panel.note", "  " + c.help)] for c in cmd.COMMANDS.values()]
    lines.append([("class:panel.note", "Ctrl-N/Ctrl-P other chats, PageUp/PageDown scroll, "
                                       "Tab completes, Alt+Enter (or Esc Enter) a new line "
                                       "in a message, Esc closes this")])
    lines.append([("class:panel.note", "Shift-Up/Shift-Down select a message for /reply, "
                                       "/edit, /delete, /react, /reactions; Esc unselects")])
    return Panel(f"help · {CLOSE}", tuple(lines))


def _contact_lines(state: State) -> list[Line]:
    return [[("class:panel.command", named(state, ident)),
             *([("class:panel.note", " (blocked)")] if ident in state.blocked else [])]
            for ident in state.contacts]


def _group_lines(state: State) -> list[Line]:
    groups = [c for c in state.conversations.values() if c.is_group]
    return [[("class:panel.command", "# " + named(state, c.peer)),
             ("class:panel.note", ": " + people(state, c.members))] for c in groups]


def contacts_panel(session: Session) -> Panel:
    """Contacts (alias and id), then groups (alias, id and members); SessionError offline."""
    state = session.need_state()
    lines = _contact_lines(state) + _group_lines(state)
    if not lines:
        lines = [[("class:panel.note", "no contacts yet: /add ID ALIAS")]]
    return Panel(f"contacts · {CLOSE}", tuple(lines))


def members_panel(session: Session, action: intents.Members) -> Panel:
    """A group's members (the open one's, unless named): name and id, admins marked."""
    state = session.need_state()
    group = session.open_peer if action.group is None else state.resolve(action.group)
    if group is None or not is_group_id(group):
        raise SessionError("open a group first (/open GROUP)")
    admins = admins_of(state, group)
    lines: list[Line] = [[("class:panel.command", named(state, member)),
                          ("class:panel.note", " admin" if member in admins else "")]
                         for member in state.conversation(group).members]
    return Panel(f"members of {state.label(group)} · {CLOSE}", tuple(lines))




def highlighted(text: str, words: str) -> Line:
    """`text` with what matches `words` in the hit style (search.spans)."""
    line: Line = []
    done = 0
    for start, stop in spans(text, words):
        line += [("class:panel.text", text[done:start]), ("class:hit", text[start:stop])]
        done = stop
    return [*line, ("class:panel.text", text[done:])]


def _hit_line(state: State, hit: Hit, words: str) -> Line:
    m = hit.message
    chat = ("# " if state.conversation(hit.peer).is_group else "") + state.label(hit.peer)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.shown_at))
    return [("class:panel.command", chat), ("class:panel.note", f" · {when} · "),
            ("class:author", person(state, m.src)), ("class:panel.note", ": "),
            *highlighted(m.text, words)]


def results_panel(session: Session, action: intents.Search) -> Panel:
    """/search's results, newest first: chat, time, author, the text with the words lit.

    Up and Down choose one, Enter opens its chat at it (keys.py, app.py)."""
    state = session.need_state()
    if action.here and session.open_peer is None:
        raise SessionError(f"no open conversation to search: /open ID first, or leave out "
                           f"{cmd.HERE}")
    found = session.search(action.words, session.open_peer if action.here else None)
    shown = f"the newest {len(found.hits)} of " if len(found.hits) < found.total else ""
    title = f"{shown}{found.total} found: {action.words.strip()} · Enter opens · {CLOSE}"
    if not found.hits:
        return Panel(f"nothing found: {action.words.strip()} · {CLOSE}",
                     ([("class:panel.note", "no message holds every word")],))
    return Panel(title, tuple(_hit_line(state, hit, action.words) for hit in found.hits),
                 tuple((hit.peer, hit.message.key) for hit in found.hits))


PANELS: dict[type, Callable[[Session, Any], Panel]] = {
    intents.Help: lambda session, action: help_panel(session),
    intents.Contacts: lambda session, action: contacts_panel(session),
    intents.Members: members_panel,
    intents.Search: results_panel,
}
"""Action type -> the panel (made of the session and the action) the full-screen client
shows for it instead of notices."""
