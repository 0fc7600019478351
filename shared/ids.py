"""User and group ids: `Client-000001` and `Group-0000001`, 13 characters each.

The server hands out numbers in order; these helpers turn them into ids and back.
"""

import re

USER_PREFIX = "Client-"
GROUP_PREFIX = "Group-"
USER_PATTERN = f"{USER_PREFIX}[0-9]{{6}}"
GROUP_PATTERN = f"{GROUP_PREFIX}[0-9]{{7}}"
"""Regular expressions for one id, without anchors (codec.py matches whole frames with them)."""
_USER_RE = re.compile(USER_PATTERN + r"\Z")
_GROUP_RE = re.compile(GROUP_PATTERN + r"\Z")
MAX_USER_NUMBER = 999_999
MAX_GROUP_NUMBER = 9_999_999


def user_id(number: int) -> str:
    """The id of the user numbered `number` (1 ... MAX_USER_NUMBER)."""
    if not 0 < number <= MAX_USER_NUMBER:
        raise ValueError(f"user number out of range: {number}")
    return f"{USER_PREFIX}{number:06d}"


def group_id(number: int) -> str:
    """The id of the group numbered `number` (1 ... MAX_GROUP_NUMBER)."""
    if not 0 < number <= MAX_GROUP_NUMBER:
        raise ValueError(f"group number out of range: {number}")
    return f"{GROUP_PREFIX}{number:07d}"


def is_user_id(text: str) -> bool:
    return _USER_RE.match(text) is not None


def is_group_id(text: str) -> bool:
    return _GROUP_RE.match(text) is not None


def number_of(ident: str) -> int:
    """The number inside a valid user or group id."""
    return int(ident.rsplit("-", 1)[1])
