"""The one error the session raises at its users: a request it cannot carry out.

The states' own errors (an illegal step) are in states.py: those are bugs, not
answers for a person.
"""


class SessionError(Exception):
    """A request the session cannot carry out; the message is for a person."""
