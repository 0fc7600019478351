"""The rules of display names: 21 set my name (22 to me and to everyone who shares a chat
with me), and the 22s owed when people first share a chat (PROTOCOL.md 5.9).

Knows who is called what and who shares a chat with whom; knows no sockets and no SQL.
"""

from collections.abc import Collection

from interzap_server.rules.context import Context, Unit
from shared import events as ev
from shared.codec import encode, name_problem
from shared.codes import ErrorCode
from shared.errors import RemoteProtocolError


def set_name(ctx: Context, unit: Unit, event: ev.SetName) -> None:
    """21: a new name is owed (22) to every contact and co-member; the sender is answered
    with its 22 either way, so the same name again changes nothing and is answered alike."""
    me = unit.user
    problem = name_problem(event.name)
    if problem:
        raise RemoteProtocolError(ErrorCode.INVALID_NAME, problem)
    frame = encode(ev.Name(me, event.name))
    names = ctx.store.names
    if names.set_name(me, event.name):
        ctx.owe(unit, names.contacts_of(me), frame)
    ctx.reply(unit, frame)


def meet(ctx: Context, unit: Unit, author: str, recipient: str) -> None:
    """A 1:1 message between the two: at their first, each is owed the other's name (if
    set). Costs no statement once the pair is known (storage/names.py)."""
    if author != recipient and ctx.store.names.meet(author, recipient):
        introduce(ctx, unit, (author, recipient), (author, recipient))


def introduce(ctx: Context, unit: Unit, people: Collection[str],
              newcomers: Collection[str]) -> None:
    """`newcomers` now share a chat with `people` (whom they are among): each newcomer is
    owed everyone's name, everyone the newcomers' names; those without a name are left out."""
    known = ctx.store.names.names_of(people)
    for person in people:
        for other, name in known.items():
            if other != person and (person in newcomers or other in newcomers):
                ctx.owe(unit, [person], encode(ev.Name(other, name)))
