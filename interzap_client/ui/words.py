"""How the screen writes ids, people and times for a person: aliases, "you", local clock.

Refuses to know about layout, keys and the network: plain strings from the State.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from interzap_client.people import person as person  # re-exported: "you", else the label
from interzap_client.state import State


def people(state: State, idents: Iterable[str]) -> str:
    """Members of a group, in their order: "bob, you, Client-000003"."""
    return ", ".join(person(state, ident) for ident in idents)


def named(state: State, ident: str) -> str:
    """An id with its label (alias, else name), when it has one: "bob (Client-000002)"."""
    label = state.label(ident)
    return f"{label} ({ident})" if label != ident else ident


def local_time(ts: int, now: float | None = None) -> str:
    """HH:MM in the local time zone today, else the date."""
    moment = time.localtime(ts)
    today = time.localtime(now if now is not None else time.time())
    if moment[:3] == today[:3]:
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d", moment)
