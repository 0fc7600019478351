"""Carry out one parsed command on a Session; shared by the scripted mode and the UI.

Resolves names (ids or aliases) to ids, calls the session, and reports the
outcome as Notices (errors included), so both front ends behave the same:
one small function per action, found through one table (_PERFORM). /quit is
the caller's business. Refuses to know how anything is shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from interzap_client import commands as cmd
from interzap_client.history import write_export
from interzap_client.notices import Notice
from interzap_client.profile import ProfileError
from interzap_client.session import Session, SessionError
from interzap_client.state import Tick

TICKS = {"accepted": Tick.ACCEPTED, "delivered": Tick.DELIVERED, "read": Tick.READ}


def resolve(session: Session, name: str) -> str:
    """The id behind `name`; SessionError for an unknown alias."""
    ident = session.need_state().resolve(name)
    if ident is None:
        raise SessionError(f"{name} is neither an id nor a known alias (/add ID ALIAS)")
    return ident


def _target(session: Session, name: str | None) -> str:
    if name is not None:
        return resolve(session, name)
    if session.open_peer is None:
        raise SessionError("no open conversation: /open ID first, or name one")
    return session.open_peer


async def perform(session: Session, action: cmd.Action, timeout: float) -> bool:
    """Do `action`; False (after an error Notice) if it failed or timed out."""
    try:
        return await _PERFORM[type(action)](session, action, timeout)
    except (SessionError, ProfileError, cmd.CommandError) as exc:
        session.fail(str(exc))
    except OSError as exc:
        session.fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    return False


# ---- one function per action: (session, action, timeout) -> done? -------------------


async def _say(session: Session, action: cmd.Say, timeout: float) -> bool:
    session.send_text(_target(session, None), action.text)
    return True


async def _send(session: Session, action: cmd.Send, timeout: float) -> bool:
    session.send_text(resolve(session, action.peer), action.text)
    return True


async def _register(session: Session, action: cmd.Register, timeout: float) -> bool:
    session.start_register()
    return await session.answer(timeout)


async def _login(session: Session, action: cmd.Login, timeout: float) -> bool:
    session.start_login(action.ident, action.token)
    return await session.answer(timeout)


async def _add(session: Session, action: cmd.Add, timeout: float) -> bool:
    session.add_contact(resolve(session, action.ident), action.alias)
    return True


async def _open(session: Session, action: cmd.Open, timeout: float) -> bool:
    session.open(resolve(session, action.peer))
    return True


async def _read_up(session: Session, action: cmd.ReadUp, timeout: float) -> bool:
    session.mark_read(_target(session, action.peer))
    return True


async def _group(session: Session, action: cmd.Group, timeout: float) -> bool:
    future = session.create_group(tuple(resolve(session, n) for n in action.members))
    try:
        group = await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        session.fail(f"/group: no answer within {timeout:g} s (it stays in the outbox)")
        return False
    return group is not None


async def _contacts(session: Session, action: cmd.Contacts, timeout: float) -> bool:
    state = session.need_state()
    for ident in state.contacts:
        session.notify(Notice("contact", id=ident, alias=state.aliases.get(ident)))
    for conv in state.conversations.values():
        if conv.is_group:
            session.notify(Notice("group", group=conv.peer, members=conv.members,
                                  peer=conv.peer, ts=conv.created or None))
    return True


async def _export(session: Session, action: cmd.Export, timeout: float) -> bool:
    write_export(session.need_state(), Path(action.path).expanduser())
    session.notify(Notice("info", text=f"history exported to {action.path}"))
    return True


async def _help(session: Session, action: cmd.Help, timeout: float) -> bool:
    for line in cmd.help_lines():
        session.notify(Notice("info", text=line))
    return True


async def _wait_tick(session: Session, action: cmd.WaitTick, timeout: float) -> bool:
    """Until every own message to the peer has reached the tick.

    Refused messages (already reported as errors) never move, so they are left out.
    """
    tick, peer = TICKS[action.tick], _target(session, action.peer)
    conv = session.need_state().conversation(peer)

    def late() -> int:
        return sum(1 for m in conv.messages
                   if m.tick is not None and m.tick is not Tick.FAILED and m.tick < tick)

    if not await session.wait_until(lambda: late() == 0, timeout):
        session.fail(f"/wait {tick.name.lower()} {peer}: {late()} message(s) not there "
                     f"within {timeout:g} s", peer=peer)
        return False
    return True


async def _wait_received(session: Session, action: cmd.WaitReceived, timeout: float) -> bool:
    count = action.count
    if not await session.wait_until(lambda: session.received >= count, timeout):
        session.fail(f"/wait received {count}: only {session.received} arrived "
                     f"within {timeout:g} s")
        return False
    return True


async def _quit(session: Session, action: cmd.Quit, timeout: float) -> bool:
    return True  # leaving is the caller's business


Performer = Callable[[Session, Any, float], Awaitable[bool]]
"""Takes the one action type its row names."""
_PERFORM: dict[type, Performer] = {
    cmd.Say: _say, cmd.Send: _send, cmd.Register: _register, cmd.Login: _login,
    cmd.Add: _add, cmd.Open: _open, cmd.ReadUp: _read_up, cmd.Group: _group,
    cmd.Contacts: _contacts, cmd.Export: _export, cmd.Help: _help,
    cmd.WaitTick: _wait_tick, cmd.WaitReceived: _wait_received, cmd.Quit: _quit,
}
"""Every action type -> the function that carries it out."""
