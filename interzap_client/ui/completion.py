"""Tab completion: commands, then the ids, aliases and names the state knows
(commands.complete).

Each name in the menu shows what it stands for beside it: an alias or a display
name its id, an id its alias (or name), a group its members. Refuses to know about keys (keys.py
starts the completion) and the layout (the menu floats at the cursor).
"""

from __future__ import annotations

from collections.abc import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from interzap_client import commands as cmd
from interzap_client.session import Session
from interzap_client.state import State
from interzap_client.ui.words import people


def known_names(state: State) -> dict[str, str]:
    """Every name that may follow a command -> what the menu shows beside it."""
    names = {alias: ident for ident, alias in state.aliases.items()}
    for ident, name in state.people.names.items():  # one-word names that say who
        if " " not in name and state.resolve(name) == ident:
            names.setdefault(name, ident)
    for ident in state.contacts:
        label = state.label(ident)
        names[ident] = "" if label == ident else label
    for conv in state.conversations.values():
        if conv.is_group:
            names[conv.peer] = people(state, conv.members)
    return names


class NameCompleter(Completer):
    """Completions for the word before the cursor, from commands.complete()."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        line = document.text_before_cursor
        word = line.split(" ")[-1]
        state = self.session.state
        names = known_names(state) if state is not None else {}
        for choice in cmd.complete(line, list(names)):
            yield Completion(choice, start_position=-len(word), display=choice.rstrip(),
                             display_meta=names.get(choice.rstrip(), ""))
