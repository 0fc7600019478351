"""The cluster's listener in the selector: the connection that hears the other nodes.

Its descriptor changes: none while it is lost, a new one each time it connects
again (storage/wakeups.py), so the selector must follow it, unwatching the old
one (closed already: epoll forgot it) and watching the new. What it drains goes
to the service. A lone server's listener never has a descriptor: nothing here
costs it anything.

Knows the selector and the listener's fileno()/drain()/retry_in(); knows nothing
of what the nodes say.
"""

import selectors
from collections.abc import Callable, Sequence

from interzap_server.storage import Heard, Wakeups


class Hearing:
    """The listener, watched under its descriptor of now; `hear` is told what it drains."""

    def __init__(self, selector: selectors.BaseSelector, listener: Wakeups,
                 hear: Callable[[Sequence[Heard]], None]) -> None:
        self._selector = selector
        self._listener = listener
        self._hear = hear
        self.fd: int | None = None  # the descriptor the selector watches, if any
        self._follow()

    def drain(self) -> None:
        """Hand what the other nodes said to the service (and connect a lost listener
        again, when it is due: drain() does)."""
        heard = self._listener.drain()
        self._follow()
        if heard:
            self._hear(heard)

    def retry_in(self) -> float | None:
        """Seconds until a lost listener is tried again; None if it is not lost."""
        return self._listener.retry_in()

    def close(self) -> None:
        if self.fd is not None:
            self._selector.unregister(self.fd)

    def _follow(self) -> None:
        fd = self._listener.fileno()
        if fd != self.fd:
            if self.fd is not None:
                self._selector.unregister(self.fd)
            if fd is not None:
                self._selector.register(fd, selectors.EVENT_READ, self.drain)
            self.fd = fd
