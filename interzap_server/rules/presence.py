"""The rules of presence and typing: 27 typing, 28 privacy, 29 presence ask, and the 30s
that logging in and out send to contacts online who asked (PROTOCOL.md 5.13, 5.14), as
do a dead node's users found offline (beat(): storage/presence.py says who).

Who sees what: only people who share a chat (storage/presence.py), never
someone the user blocks, nobody while either side hides their presence (as
WhatsApp does: who hides sees nobody's). 27 and the pushed 30s are ephemeral:
sent to those online through Context.tell() and nowhere stored.

Knows presence, blocks and group members through the store; knows no sockets,
no SQL and no transaction.
"""

from interzap_server.rules import accounts
from interzap_server.rules.accounts import require_user
from interzap_server.rules.context import Context, Unit
from shared import events as ev
from shared.codec import encode
from shared.ids import is_group_id


def register(ctx: Context, unit: Unit, event: ev.Register) -> None:
    """01 (accounts.register), then: online from now (nobody to tell yet), in the
    account's own transaction."""
    accounts.register(ctx, unit, event)
    ctx.store.presence.arrived(unit.user, ctx.now)


def login(ctx: Context, unit: Unit, event: ev.Login) -> None:
    """03 (accounts.login); the service records the login after the batch's frames
    (record()), so that a database that cannot write costs no login."""
    accounts.login(ctx, unit, event)
    ctx.moves.append((event.user, True))


def record_all(ctx: Context, moves: list[tuple[str, bool]]) -> None:
    """Who logged in (True) or whose connection ended, in order: record() each."""
    for user, online in moves:
        record(ctx, user, online)


def record(ctx: Context, user: str, online: bool) -> None:
    """`user` logged in (online) or their connection ended: the presence row says so,
    and who asked hears it (30: ONLINE, or the last seen, now)."""
    if online:
        ctx.store.presence.arrived(user, ctx.now)
        announce(ctx, user, ev.ONLINE)
    elif not ctx.sessions.online(user) and ctx.store.presence.left(user, ctx.now):
        announce(ctx, user, ctx.now)  # unless already back, here or on another node


def beat(ctx: Context) -> None:
    """Once a second (the loop's tick): this server says it is alive. The users of a node
    found dead are offline: who asked hears their last seen, as at a logout; ours, if a
    node took this one for dead while it was slow, are online again, and heard so."""
    presence = ctx.store.presence
    for user in presence.beat():
        announce(ctx, user, ev.ONLINE)
    for user, seen in presence.reap():
        if not ctx.sessions.online(user):  # unless they came here meanwhile
            announce(ctx, user, seen)


def announce(ctx: Context, user: str, ts: int) -> None:
    """Tell `user`'s contacts online that they are online (ONLINE) or were last seen at
    ts, unless either side hides it or `user` blocks them."""
    presence = ctx.store.presence
    mine = presence.of(user)
    if mine is not None and mine.hidden:
        return
    contacts = presence.contacts(user)
    frame = encode(ev.Presence(user, ts))
    for contact in contacts - presence.hiding(contacts):
        if not ctx.store.blocks.blocks(user, contact):
            ctx.tell(contact, frame, about=user)


def privacy(ctx: Context, unit: Unit, event: ev.Privacy) -> None:
    """28: hide (1) or share (0) my presence; answered by my own 30 (HIDDEN or ONLINE)."""
    me = unit.user
    ctx.store.presence.hide(me, bool(event.hidden), ctx.now)
    ctx.reply(unit, encode(ev.Presence(me, ev.HIDDEN if event.hidden else ev.ONLINE)))


MAX_WATCHED = 256
"""Users one connection may follow with 29s; beyond, one of them is forgotten."""


def ask(ctx: Context, unit: Unit, event: ev.PresenceAsk) -> None:
    """29: a 30 saying what `user`'s presence is, as the asker may see it; from now on,
    on this connection, a 30 each time they log in or out (as the asker may see it)."""
    require_user(ctx, event.user)
    ctx.reply(unit, encode(ev.Presence(event.user, seen_by(ctx, unit.user, event.user))))
    watching = unit.session.watching
    if len(watching) >= MAX_WATCHED and event.user not in watching:
        watching.pop()
    watching.add(event.user)


def seen_by(ctx: Context, viewer: str, user: str) -> int:
    """The ts of the 30 about `user` for `viewer`: ONLINE, a last seen, or HIDDEN."""
    presence = ctx.store.presence
    theirs = presence.of(user)
    if user == viewer:
        return ev.HIDDEN if theirs is not None and theirs.hidden else ev.ONLINE
    mine = presence.of(viewer)
    if (theirs is None or theirs.hidden or (mine is not None and mine.hidden)
            or ctx.store.blocks.blocks(user, viewer)
            or not presence.share_chat(viewer, user)):
        return ev.HIDDEN
    return ev.ONLINE if theirs.online else theirs.seen


def typing(ctx: Context, unit: Unit, event: ev.Typing) -> None:
    """27: relayed to the others in the chat who are online, at most one per sender and
    chat per interval (throttle.py); anything wrong with it is dropped without a word:
    nobody waits for an answer to a 27."""
    me = unit.user
    if event.src != me or not ctx.typists.admit(me, event.dst, ctx.now):
        return
    store = ctx.store
    if is_group_id(event.dst):
        members = store.group_members(event.dst)
        if members is None or me not in members:
            return
        others = [m for m in members if m != me]
    elif event.dst != me and store.user_exists(event.dst) \
            and not store.blocks.blocks(event.dst, me):
        others = [event.dst]
    else:
        return
    frame = encode(event)
    for other in others:
        if not store.blocks.blocks(me, other):
            ctx.tell(other, frame)
