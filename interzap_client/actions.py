"""Carry out one parsed command on a Session; shared by the scripted mode and the UI.

Resolves names (ids or aliases) to ids (targets.py), calls the session, and reports the
outcome as Notices (errors included), so both front ends behave the same:
one small function per action, found through one table (_PERFORM). /quit is
the caller's business. Refuses to know how anything is shown.

Theory of operation: an action is done in two parts. start() does at once
what can be done at once, and reports there and then whether that failed (an
unknown alias, no open chat, a text too long): the UI keeps a failed line for
correction. What has to wait for the server (/register, /login, /group,
/block, /unblock, /name, the group changes, /wait) comes back as an awaitable,
finished by finish(); perform() is both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from interzap_client import commands as cmd
from interzap_client import intents, message_acts
from interzap_client.conversations import Message, Tick
from interzap_client.history import write_export
from interzap_client.notices import Notice
from interzap_client.people import admins_of
from interzap_client.profile import ProfileError
from interzap_client.session import Session, SessionError
from interzap_client.targets import choose, group_target, resolve, target
from shared.codes import GroupOp
from shared.ids import is_group_id, is_user_id

Outcome = bool | Awaitable[bool]
"""What start() gives: done (True), failed and reported (False), or the rest to await."""


def _report(session: Session, exc: Exception) -> None:
    if isinstance(exc, OSError):
        session.fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    else:
        session.fail(str(exc))


_FAILURES = (SessionError, ProfileError, cmd.CommandError, OSError)
"""What an action may raise: each is reported as an error notice, never raised further."""


def start(session: Session, action: intents.Action, timeout: float) -> Outcome:
    """Do at once what `action` can; False (after an error notice) if that failed."""
    try:
        return _PERFORM[type(action)](session, action, timeout)
    except _FAILURES as exc:
        _report(session, exc)
    return False


async def finish(session: Session, outcome: Outcome) -> bool:
    """Await the rest of a started action; False (after an error notice) if it failed."""
    if isinstance(outcome, bool):
        return outcome
    try:
        return await outcome
    except _FAILURES as exc:
        _report(session, exc)
    return False


async def perform(session: Session, action: intents.Action, timeout: float) -> bool:
    """Do `action` to its end; False (after an error notice) if it failed or timed out."""
    return await finish(session, start(session, action, timeout))


# ---- one function per action: (session, action, timeout) -> Outcome ----------------


def _say(session: Session, action: intents.Say, timeout: float) -> Outcome:
    session.send_text(target(session, None), action.text)
    return True


def _send(session: Session, action: intents.Send, timeout: float) -> Outcome:
    session.send_text(resolve(session, action.peer), action.text)
    return True


def _register(session: Session, action: intents.Register, timeout: float) -> Outcome:
    session.start_register(action.code)
    return session.answer(timeout)


def _login(session: Session, action: intents.Login, timeout: float) -> Outcome:
    session.start_login(action.ident, action.token)
    return session.answer(timeout)


def _add(session: Session, action: intents.Add, timeout: float) -> Outcome:
    session.add_contact(resolve(session, action.ident), action.alias)
    return True


def _open(session: Session, action: intents.Open, timeout: float) -> Outcome:
    session.open(resolve(session, action.peer))
    return True


def _read_up(session: Session, action: intents.ReadUp, timeout: float) -> Outcome:
    session.mark_read(target(session, action.peer))
    return True


def _group(session: Session, action: intents.Group, timeout: float) -> Outcome:
    future = session.create_group(tuple(resolve(session, n) for n in action.members),
                                  action.name)
    return _group_made(session, future, timeout)


async def _group_made(session: Session, future: asyncio.Future[str | None],
                      timeout: float) -> bool:
    """Until the 11 that answers our 10 (None in the future: refused, reported already)."""
    try:
        group = await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        session.fail(f"/group: no answer within {timeout:g} s (it stays in the outbox)")
        return False
    return group is not None


def _contacts(session: Session, action: intents.Contacts, timeout: float) -> Outcome:
    state = session.need_state()
    for ident in state.contacts:
        session.notify(Notice("contact", id=ident, alias=state.aliases.get(ident),
                              blocked=ident in state.blocked or None))
    for conv in state.conversations.values():
        if conv.is_group:
            session.notify(Notice("group", group=conv.peer, members=conv.members,
                                  peer=conv.peer, ts=conv.created or None,
                                  name=state.people.titles.get(conv.peer)))
    return True


def _block(session: Session, action: intents.Block, timeout: float) -> Outcome:
    user = resolve(session, action.peer)
    session.blocks.ask(user, action.on)
    return _block_answered(session, user, timeout)


async def _block_answered(session: Session, user: str, timeout: float) -> bool:
    """Until the 19 (or 13) that answers our 17 or 18 about `user`."""
    if not await session.wait_until(lambda: not session.blocks.pending(user), timeout):
        session.fail(f"no answer about {user} within {timeout:g} s "
                     "(it is sent again at the next login)")
        return False
    return True


def _blocked(session: Session, action: intents.Blocked, timeout: float) -> Outcome:
    session.notify(Notice("blocked", users=tuple(session.need_state().blocked)))
    return True


def _export(session: Session, action: intents.Export, timeout: float) -> Outcome:
    write_export(session.need_state(), Path(action.path).expanduser())
    session.notify(Notice("info", text=f"history exported to {action.path}"))
    return True


def _help(session: Session, action: intents.Help, timeout: float) -> Outcome:
    for line in cmd.help_lines():
        session.notify(Notice("info", text=line))
    return True


def _wait_tick(session: Session, action: intents.WaitTick, timeout: float) -> Outcome:
    tick, peer = Tick[action.tick.upper()], target(session, action.peer)  # TICK_NAMES
    return _ticks_reached(session, tick, peer, timeout)


async def _ticks_reached(session: Session, tick: Tick, peer: str, timeout: float) -> bool:
    """Until every own message to the peer has reached the tick.

    Refused messages (already reported as errors) never move, so they are left out.
    """
    conv = session.need_state().conversation(peer)

    def late() -> int:
        return sum(1 for m in conv.messages
                   if m.tick is not None and m.tick is not Tick.FAILED and m.tick < tick)

    if not await session.wait_until(lambda: late() == 0, timeout):
        session.fail(f"/wait {tick.name.lower()} {peer}: {late()} message(s) not there "
                     f"within {timeout:g} s", peer=peer)
        return False
    return True


def _wait_received(session: Session, action: intents.WaitReceived, timeout: float) -> Outcome:
    return _received(session, action.count, timeout)


async def _received(session: Session, count: int, timeout: float) -> bool:
    if not await session.wait_until(lambda: session.received >= count, timeout):
        session.fail(f"/wait received {count}: only {session.received} arrived "
                     f"within {timeout:g} s")
        return False
    return True


# ---- replies, edits, deletions, reactions: a message of the open chat (targets.choose) ---


def _act_on(session: Session, action: intents.ActOn, timeout: float) -> Outcome:
    session.act_on(choose(session, action), action.kind, action.text)
    return True


def _reactions(session: Session, action: intents.Reactions, timeout: float) -> Outcome:
    message = choose(session, action)
    session.notify(Notice("reactions", peer=session.open_peer, ref_author=message.src,
                          ref_ts=message.ts, reactions=message_acts.reactors(message)))
    return True


def _set_name(session: Session, action: intents.SetName, timeout: float) -> Outcome:
    session.set_name(action.name)
    state = session.need_state()
    return _answered(session, lambda: state.people.wanted != action.name,
                     f"/name: no answer within {timeout:g} s (it stays in the outbox)", timeout)


def _change_group(session: Session, action: intents.ChangeGroup, timeout: float) -> Outcome:
    group = group_target(session, action.group)
    arg = action.arg or ""
    if action.op in (GroupOp.ADD, GroupOp.REMOVE, GroupOp.PROMOTE, GroupOp.DEMOTE):
        arg = resolve(session, arg)
    change = session.change_group(group, action.op, arg)
    changes = session.need_state().people.changes
    return _answered(session, lambda: (change.group, change.ts) not in changes,
                     f"no answer about {group} within {timeout:g} s (it stays in the outbox)",
                     timeout)


async def _answered(session: Session, done: Callable[[], bool], late: str,
                    timeout: float) -> bool:
    """Until a request of the outbox is answered: True, or False if refused (reported
    already) or late (reported here)."""
    errors = session.errors
    if not await session.wait_until(done, timeout):
        session.fail(late)
        return False
    return session.errors == errors


def _whois(session: Session, action: intents.Whois, timeout: float) -> Outcome:
    state = session.need_state()
    found = ([action.query] if is_user_id(action.query) or is_group_id(action.query)
             else state.people.named_as(action.query))
    alias = state.resolve(action.query)
    if alias is not None and alias not in found:
        found.append(alias)
    if not found:
        raise SessionError(f"nobody you know is called {action.query}")
    for ident in found:
        session.notify(Notice("whois", id=ident, name=state.label(ident),
                              alias=state.aliases.get(ident)))
    return True


def _members(session: Session, action: intents.Members, timeout: float) -> Outcome:
    state = session.need_state()
    group = group_target(session, action.group)
    admins = admins_of(state, group)
    for member in state.conversation(group).members:
        session.notify(Notice("member", group=group, id=member, name=state.label(member),
                              admin=member in admins or None))
    return True


def _reply_fields(session: Session, m: Message) -> dict[str, Any]:
    """A reply's ref_author, ref_ts, quote and known, as the event of its arrival has them."""
    if m.reply is None:
        return {}
    original = session.need_state().original(m.src, m.dst, *m.reply)
    return dict(ref_author=m.reply[0], ref_ts=m.reply[1], quote=message_acts.quote(original),
                known=original is not None)


def _search(session: Session, action: intents.Search, timeout: float) -> Outcome:
    peer = target(session, None) if action.here else None
    found = session.search(action.words, peer)
    for hit in found.hits:
        m = hit.message
        session.notify(Notice("found", peer=hit.peer, author=m.src, ts=m.ts, text=m.text,
                              group=hit.peer if is_group_id(hit.peer) else None,
                              **_reply_fields(session, m)))
    session.notify(Notice("searched", peer=peer, count=found.total, text=action.words))
    return True


def _quit(session: Session, action: intents.Quit, timeout: float) -> Outcome:
    return True  # leaving is the caller's business


def _info(session: Session, action: intents.Info, timeout: float) -> Outcome:
    group = target(session, None)
    conv = session.need_state().conversation(group)
    if not conv.is_group:
        raise SessionError("/info is for your messages in a group: open one")
    mine = [m for m in conv.messages if m.tick is not None and m.tick >= Tick.ACCEPTED]
    if len(mine) < action.nth:
        raise SessionError(f"you have {len(mine)} message(s) the server took in this group")
    ts = mine[-action.nth].ts
    session.live.ask_info(group, ts)
    return _until(session, lambda: not session.live.info_pending(group, ts),
                  f"/info: no answer within {timeout:g} s", timeout)


def _typing(session: Session, action: intents.Typing, timeout: float) -> Outcome:
    session.live.typed(target(session, action.peer))  # at most one per 3 s: else nothing
    return True


def _privacy(session: Session, action: intents.Privacy, timeout: float) -> Outcome:
    session.live.set_privacy(action.hidden)
    return _until(session, lambda: not session.live.privacy_pending,
                  f"/privacy: no answer within {timeout:g} s (asked again at the next login)",
                  timeout)


def _presence_of(session: Session, action: intents.PresenceOf, timeout: float) -> Outcome:
    user = resolve(session, action.peer)
    if not session.logged_in:
        raise SessionError("/presence asks the server: log in first")
    seen = session.live.presence.seen
    seen.pop(user, None)
    session.live.watch(user)
    return _until(session, lambda: user in seen or not session.live.watching(user),
                  f"/presence: no answer about {user} within {timeout:g} s", timeout)


async def _until(session: Session, done: Callable[[], bool], failure: str,
                 timeout: float) -> bool:
    """Until `done()` (an answer came: it reported itself), else `failure` as an error."""
    if not await session.wait_until(done, timeout):
        session.fail(failure)
        return False
    return True


Performer = Callable[[Session, Any, float], Outcome]
"""Takes the one action type its row names."""
_PERFORM: dict[type, Performer] = {
    intents.Say: _say, intents.Send: _send, intents.Register: _register, intents.Login: _login,
    intents.Add: _add, intents.Open: _open, intents.ReadUp: _read_up, intents.Group: _group,
    intents.Contacts: _contacts, intents.Export: _export, intents.Help: _help,
    intents.WaitTick: _wait_tick, intents.WaitReceived: _wait_received, intents.Quit: _quit,
    intents.Block: _block, intents.Blocked: _blocked, intents.ActOn: _act_on,
    intents.Reactions: _reactions, intents.SetName: _set_name, intents.Whois: _whois,
    intents.ChangeGroup: _change_group, intents.Members: _members, intents.Search: _search,
    intents.Info: _info, intents.Typing: _typing, intents.Privacy: _privacy,
    intents.PresenceOf: _presence_of,
}
"""Every action type -> the function that starts it."""
