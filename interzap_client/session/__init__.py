"""One account's session: the façade (facade.py) and the rooms behind it.

    states.py     the phases and the one table of legal steps between them
    lifecycle.py  dialling, saying hello (01/03), the answers to it, reconnecting
    outbox.py     typed request records awaiting their answer; the ordered queue and its stalls
    inbound.py    server events -> journal records and notices, through one table
    blocking.py   /block and /unblock not yet answered, asked again after each login
    acting.py     /reply, /edit, /delete, /react: a 31 journaled as pending, then sent
    live.py       typing, presence, privacy and /info: the frames of 25 to 30, not journaled
    facade.py     Session: the account, the user's requests, the rooms wired together
"""

from interzap_client.session.errors import SessionError
from interzap_client.session.facade import Session

__all__ = ["Session", "SessionError"]
