"""Ids as the tables hold them: a user's number, and minus a group's for a message's dst.

Ids reach the storage package checked by the codec, so a number is simply what
follows the id's prefix; shared.ids.number_of looks for the dash instead, which
costs twice as much, and these run per frame. Knows ids, nothing of tables.
"""

from functools import lru_cache

from shared.ids import GROUP_PREFIX, USER_PREFIX

SEQ_SPAN = 1 << 40
"""An entry is one int, user * SEQ_SPAN + seq: the loop and the sessions pass entries as
ints, and those of one user compare in queue order."""

_USER_DIGITS = len(USER_PREFIX)
_GROUP_DIGITS = len(GROUP_PREFIX)


REMEMBERED_IDS = 1 << 16
"""Ids whose number is remembered (each about 100 bytes): a frame's ids are converted several
times on its way (rules, store, caches), and a lookup costs a third of a conversion."""


@lru_cache(maxsize=REMEMBERED_IDS)
def user_number(user: str) -> int:
    """A (checked) user id's number."""
    return int(user[_USER_DIGITS:])


@lru_cache(maxsize=REMEMBERED_IDS)
def number(ident: str) -> int:
    """A user's number, or minus a group's: what a message's dst column holds."""
    if ident.startswith(USER_PREFIX):
        return int(ident[_USER_DIGITS:])
    return -int(ident[_GROUP_DIGITS:])
