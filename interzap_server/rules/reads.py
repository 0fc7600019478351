"""The rules of read marks: 08 "read up to ts", and the 09 its authors are owed.

Knows read marks and who must have read what; knows no sockets and no SQL.
"""

from collections.abc import Sequence

from interzap_server.rules import info
from interzap_server.rules.accounts import require_user
from interzap_server.rules.context import Context, Unit
from interzap_server.rules.groups import members
from shared import events as ev
from shared.codec import encode
from shared.ids import is_group_id


def read(ctx: Context, unit: Unit, event: ev.Read) -> None:
    """08: the reader's marks move up to ts; an author hears of it (09) when everyone
    else has read that far."""
    reader = unit.user
    store = ctx.store
    # dst is where the read messages were sent: the reader itself, or the group
    if is_group_id(event.peer):
        dst = event.peer
        everyone = members(ctx, dst, reader)
        newest = store.marks.newest_acknowledged(dst, reader, event.ts)
    else:
        require_user(ctx, event.peer)
        dst, everyone = reader, (reader,)
        newest = store.marks.newest_acknowledged(dst, reader, event.ts, event.peer)
    for author, ts in newest.items():
        marks = store.marks.read_marks(dst, author)
        already = marks.get(reader, 0)
        if ts <= already:
            continue
        # the author hears of it when everyone else has read up to ts (1:1: the reader)
        others = [m for m in everyone if m != author] or [reader]
        before = min(marks.get(m, 0) for m in others)
        marks[reader] = ts
        store.marks.set_read_mark(dst, author, reader, ts)
        info.read(ctx, dst, author, reader, already, ts)  # group copies' times, for 25
        after = min(marks.get(m, 0) for m in others)
        if after > before:
            ctx.owe(unit, [author], encode(ev.ReadNotice(dst, after)))


def joined(ctx: Context, group: str, newcomer: str) -> None:
    """A member was added (23): they never get what was sent before, so their read marks
    start past it, and they hold back no one's 09 (PROTOCOL.md 5.4)."""
    store = ctx.store
    for author, ts in store.marks.newest_keys(group).items():
        if author != newcomer:
            store.marks.set_read_mark(group, author, newcomer, ts)


def went(ctx: Context, unit: Unit, group: str, before: Sequence[str],
         after: Sequence[str]) -> None:
    """A member left or was removed (23): an author whose messages everyone left has now
    read further than everyone before did hears it (09), as after an 08."""
    for author in after:
        was = [m for m in before if m != author]
        now = [m for m in after if m != author]
        if not now:
            continue
        marks = ctx.store.marks.read_marks(group, author)
        then, upto = (min(marks.get(m, 0) for m in people) for people in (was, now))
        if upto > then:
            ctx.owe(unit, [author], encode(ev.ReadNotice(group, upto)))
