"""The cluster's listener in the selector: the connection that hears the other nodes.

Its descriptor changes: none while it is lost, a new one each time it connects
again (storage/wakeups.py), so the selector must follow it, unwatching the old
one (closed already: epoll forgot it) and watching the new. What it drains goes
to the service. A lone server's listener never has a descriptor: nothing here
costs it anything.

While a batch waits for the database, early() drains the listener too, so that
an entry another node committed for a session here leaves before the batch
ends; what cannot go then is kept, and drain() hands it over first.

Knows the selector and the listener's fileno()/drain()/retry_in(); knows nothing
of what the nodes say.
"""

import selectors
from collections.abc import Callable, Sequence

from interzap_server.storage import Heard, Wakeups


class Hearing:
    """The listener, watched under its descriptor of now; `hear` is told what it drains."""

    def __init__(self, selector: selectors.BaseSelector, listener: Wakeups,
                 hear: Callable[[Sequence[Heard]], None],
                 hear_early: Callable[[Sequence[Heard]], list[Heard]]) -> None:
        self._selector = selector
        self._listener = listener
        self._hear = hear
        self._hear_early = hear_early
        self.fd: int | None = None  # the descriptor the selector watches, if any
        self.kept: list[Heard] = []  # drained by early(), for drain() to hand over
        self._follow()

    def drain(self) -> None:
        """Hand what the other nodes said to the service (and connect a lost listener
        again, when it is due: drain() does)."""
        heard = self.kept + self._listener.drain()
        self.kept = []
        self._follow()
        if heard:
            self._hear(heard)

    def early(self) -> bool:
        """In the middle of a batch: drain a connected listener (a lost one is not
        connected again here: that may wait), hand what it said to `hear_early` and
        keep what that returns. True if it took something (bytes may wait to be sent)."""
        if self.fd is None:
            return False
        heard = self._listener.drain()
        self._follow()
        if not heard:
            return False
        kept = self._hear_early(heard)
        self.kept += kept
        return len(kept) < len(heard)

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
