"""Protocol errors, split by whose fault they are (after h11's Local/RemoteProtocolError).

A RemoteProtocolError is the peer's fault and carries the error code to answer
it with (13/<code>); a LocalProtocolError is ours: we tried to encode nonsense.
"""

from shared.codes import ErrorCode


class ProtocolError(Exception):
    """Base of every error this package raises."""


class LocalProtocolError(ProtocolError):
    """Our own bug: an event that cannot be encoded."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something we refuse; answer with `13<code><reason>`."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def malformed(reason: str) -> RemoteProtocolError:
    """The peer's frame cannot be read (13/01): a bad code, length, field or encoding."""
    return RemoteProtocolError(ErrorCode.MALFORMED, reason)
