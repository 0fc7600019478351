"""Carry out one parsed command on a Session; shared by the scripted mode and the UI.

Resolves names (ids or aliases) to ids, calls the session, and reports the
outcome as Notices (errors included), so both front ends behave the same.
/quit is the caller's business. Refuses to know how anything is shown.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from interzap_client import commands as cmd
from interzap_client.history import write_export
from interzap_client.notices import Notice
from interzap_client.profile import ProfileError
from interzap_client.session import Session, SessionError
from interzap_client.state import Tick

TICKS = {"accepted": Tick.ACCEPTED, "delivered": Tick.DELIVERED, "read": Tick.READ}


def resolve(session: Session, name: str) -> str:
    """The id behind `name`; SessionError for an unknown alias."""
    if session.state is None:
        raise SessionError("no account yet: /register or /login ID first")
    ident = session.state.resolve(name)
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
        return await _perform(session, action, timeout)
    except (SessionError, ProfileError, cmd.CommandError) as exc:
        session.fail(str(exc))
    except OSError as exc:
        session.fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    return False


async def _perform(session: Session, action: cmd.Action, timeout: float) -> bool:
    match action:
        case cmd.Say(text):
            session.send_text(_target(session, None), text)
        case cmd.Send(peer, text):
            session.send_text(resolve(session, peer), text)
        case cmd.Register():
            session.start_register()
            return await session.answer(timeout)
        case cmd.Login(ident, token):
            session.start_login(ident, token)
            return await session.answer(timeout)
        case cmd.Add(ident, alias):
            session.add_contact(resolve(session, ident), alias)
        case cmd.Open(peer):
            session.open(resolve(session, peer))
        case cmd.ReadUp(peer):
            session.mark_read(_target(session, peer))
        case cmd.Group(names):
            future = session.create_group(tuple(resolve(session, n) for n in names))
            return await _wait_group(session, future, timeout)
        case cmd.Contacts():
            _list_contacts(session)
        case cmd.Export(path):
            if session.state is None:
                raise SessionError("no account yet: /register or /login ID first")
            write_export(session.state, Path(path).expanduser())
            session.notify(Notice("info", text=f"history exported to {path}"))
        case cmd.Help():
            for usage in cmd.COMMANDS.values():
                session.notify(Notice("info", text=usage))
        case cmd.WaitTick(name, peer):
            return await _wait_tick(session, TICKS[name], _target(session, peer), timeout)
        case cmd.WaitReceived(count):
            if not await session.wait_until(lambda: session.received >= count, timeout):
                session.fail(f"/wait received {count}: only {session.received} arrived "
                             f"within {timeout:g} s")
                return False
        case cmd.Quit():
            pass
    return True


async def _wait_group(session: Session, future: asyncio.Future[str | None],
                      timeout: float) -> bool:
    try:
        group = await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        session.fail(f"/group: no answer within {timeout:g} s (it stays in the outbox)")
        return False
    return group is not None


async def _wait_tick(session: Session, tick: Tick, peer: str, timeout: float) -> bool:
    """Until every own message to `peer` has reached `tick`.

    Refused messages (already reported as errors) never move, so they are left out.
    """
    state = session.state
    assert state is not None
    conv = state.conversation(peer)

    def late() -> int:
        return sum(1 for m in conv.messages
                   if m.tick is not None and m.tick is not Tick.FAILED and m.tick < tick)

    if not await session.wait_until(lambda: late() == 0, timeout):
        session.fail(f"/wait {tick.name.lower()} {peer}: {late()} message(s) not there "
                     f"within {timeout:g} s", peer=peer)
        return False
    return True


def _list_contacts(session: Session) -> None:
    state = session.state
    if state is None:
        raise SessionError("no account yet: /register or /login ID first")
    for ident in state.contacts:
        session.notify(Notice("contact", id=ident, alias=state.aliases.get(ident)))
    for conv in state.conversations.values():
        if conv.is_group:
            session.notify(Notice("group", group=conv.peer, members=conv.members,
                                  peer=conv.peer, ts=conv.created or None))
