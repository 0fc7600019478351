"""What a typed name or REF points at: the id behind a name, the chat or group an
action is about, the message of the open chat that /reply, /edit, /delete, /react and
/reactions mean.

Lookups only, shared by every action of actions.py; each failure is a SessionError
whose words say what to type instead. Refuses to change anything, to wait for the
server, and to know how anything is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from interzap_client import intents, message_acts
from interzap_client.conversations import Message
from interzap_client.session import Session, SessionError
from shared.codes import ActKind
from shared.ids import is_group_id


def resolve(session: Session, name: str) -> str:
    """The id behind `name`; SessionError for an unknown alias."""
    ident = session.need_state().resolve(name)
    if ident is None:
        raise SessionError(f"{name} is neither an id nor a known alias (/add ID ALIAS)")
    return ident


def target(session: Session, name: str | None) -> str:
    """The chat an action is about: named, else the open conversation."""
    if name is not None:
        return resolve(session, name)
    if session.open_peer is None:
        raise SessionError("no open conversation: /open ID first, or name one")
    return session.open_peer


def group_target(session: Session, name: str | None) -> str:
    """The group a group command is about: named, else the open conversation."""
    group = target(session, name)
    if not is_group_id(group):
        raise SessionError("open a group first (/open GROUP), or name one")
    return group


_THEIRS: tuple[Callable[[Message], bool], str] = (lambda m: not m.own, "from the others")
_YOURS: tuple[Callable[[Message], bool], str] = (lambda m: m.own, "of yours")
_DEFAULTS: dict[str | None, tuple[Callable[[Message], bool], str]] = {
    ActKind.REPLY: _THEIRS, ActKind.REACT: _THEIRS, ActKind.EDIT: _YOURS,
    ActKind.DELETE: _YOURS,
    None: (lambda m: bool(message_acts.reactors(m)), "with reactions"),  # /reactions
}
"""Per kind, which message an action is about when no REF names one (and none is
selected)."""


def choose(session: Session, action: intents.ActOn | intents.Reactions) -> Message:
    """The message an action is about, in the open chat: the one its REF names (#N, the Nth
    newest; AUTHOR@TS), else the one selected in the full-screen UI, else the newest that
    suits the action (_DEFAULTS)."""
    state, peer = session.need_state(), target(session, None)
    conv = state.conversation(peer)
    ref = action.ref
    if ref is None:
        chosen = state.messages.get(session.selected) if session.selected else None
        if chosen is not None and chosen in conv.messages:
            return chosen
        suits, words = _DEFAULTS[action.kind if isinstance(action, intents.ActOn) else None]
        found = next((m for m in reversed(conv.messages) if suits(m)), None)
        if found is None:
            raise SessionError(f"no message {words} in this chat")
        return found
    if ref.startswith("#"):
        number = int(ref[1:])
        if number > len(conv.messages):
            raise SessionError(f"this chat has {len(conv.messages)} message(s), no {ref}")
        return conv.messages[-number]
    name, _, ts = ref.rpartition("@")
    author = state.me if name == "me" else resolve(session, name)
    found = state.original(state.me, peer, author, int(ts))
    if found is None:
        raise SessionError(f"no message by {name} at {ts} in this chat")
    return found
