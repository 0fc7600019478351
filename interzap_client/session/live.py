"""Typing, presence, privacy and message info: the session's part of 25 to 30.

What the user asks (a keystroke, opening a 1:1 chat, /privacy, /info) becomes a
frame here, and what the server says (26, 27, 30) goes to the in-memory
Presence (presence.py) and out as a Notice. Nothing here is journaled: typing
and presence are true only while they are heard, and an info answer is asked
again. What the server must remember (the privacy wish) or follow (the users
whose presence we watch: the server tells a connection only about those it
asked for) is said again after every login, like blocks.

Refuses to know about sockets (network.py), files and screens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interzap_client.notices import Notice
from interzap_client.people import is_member
from interzap_client.presence import Presence, Receipts
from interzap_client.session.errors import SessionError
from interzap_client.session.outbox import InfoRequest, PresenceRequest, PrivacyRequest
from shared import events as ev
from shared.ids import is_group_id, is_user_id

if TYPE_CHECKING:
    from interzap_client.session.facade import Session

PRESENCE_WORDS = {ev.ONLINE: "online", ev.HIDDEN: "hidden"}
"""The text of a presence notice for the two special ts; any other ts: "last seen"."""


class Live:
    """The session's typing, presence and info: requests out, answers in."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.presence = Presence()
        self._watched: dict[str, None] = {}  # users asked about (29), in order
        self._privacy: bool | None = None  # a 28 not yet answered: hide (True) or share
        self._asked: set[tuple[str, int]] = set()  # 25s awaiting their 26 (or 13)
        self._rechecked: set[str] = set()  # hidden users asked again after a first message

    # ---- requests -------------------------------------------------------------

    def typed(self, chat: str | None) -> bool:
        """The user typed in `chat`: a 27 if logged in, still in the chat (a group left or
        removed from is read-only) and none went there lately."""
        session = self._session
        if chat is None or not session.logged_in or session.me is None:
            return False
        if is_group_id(chat) and not is_member(session.need_state(), chat):
            return False
        if not self.presence.may_send_typing(chat, session.clock()):
            return False
        return session.net.send(ev.Typing(session.me, chat))

    def watch(self, user: str) -> None:
        """Ask for `user`'s presence (29), and hear when it changes, on this connection
        and after each login."""
        if not is_user_id(user) or user == self._session.me:
            return
        self._watched.pop(user, None)
        self._watched[user] = None
        if self._session.logged_in:
            self._session.outbox.send(PresenceRequest(user), ev.PresenceAsk(user))

    def watching(self, user: str) -> bool:
        return user in self._watched

    def set_privacy(self, hidden: bool) -> None:
        """/privacy lastseen off (hidden) or on: a 28 now and after each login until a 30
        about us answers it."""
        self._privacy = hidden
        if self._session.logged_in:
            self._ask_privacy(hidden)

    def _ask_privacy(self, hidden: bool) -> None:
        self._session.outbox.send(PrivacyRequest(hidden), ev.Privacy(int(hidden)))

    @property
    def privacy_pending(self) -> bool:
        return self._privacy is not None

    def ask_info(self, group: str, ts: int) -> None:
        """A 25 about our message `ts` in `group`; its 26 comes as a "receipts" notice."""
        if not self._session.logged_in:
            raise SessionError("/info asks the server: log in first")
        if self._session.outbox.send(InfoRequest(group, ts), ev.Info(group, ts)):
            self._asked.add((group, ts))

    def info_pending(self, group: str, ts: int) -> bool:
        return (group, ts) in self._asked

    def repeat(self) -> None:
        """After a login: the privacy wish not yet answered, and a 29 per watched user."""
        if self._privacy is not None:
            self._ask_privacy(self._privacy)
        for user in self._watched:
            self._session.outbox.send(PresenceRequest(user), ev.PresenceAsk(user))

    def forget(self) -> None:
        """The connection went down: what was heard on it no longer holds."""
        self.presence.forget()
        self._asked.clear()
        self._rechecked.clear()
        self._session.touch()

    def reset(self) -> None:
        """Another account (or none) is in use: none of this one's wishes or news hold."""
        self.presence = Presence()
        self._watched.clear()
        self._privacy = None
        self._asked.clear()
        self._rechecked.clear()

    # ---- answers and news -------------------------------------------------------

    def typing(self, event: ev.Typing) -> None:
        """27: someone is typing to us (1:1) or in a group."""
        chat = event.dst if is_group_id(event.dst) else event.src
        self.presence.heard_typing(event.src, chat, self._session.clock())
        self._session.notify(Notice("typing", peer=chat, author=event.src))

    def message(self, author: str, chat: str) -> None:
        """A message arrived: its author stopped typing there. From someone watched whose
        presence was hidden: asked again, once (a first message makes a shared chat)."""
        if self.presence.heard_message(author, chat):
            self._session.touch()
        if (chat == author and author in self._watched and author not in self._rechecked
                and self.presence.seen.get(author) == ev.HIDDEN and self._session.logged_in):
            self._rechecked.add(author)
            self._session.outbox.send(PresenceRequest(author), ev.PresenceAsk(author))

    def heard_presence(self, event: ev.Presence) -> None:
        """30: the answer to our 28 (about us) or 29, or news of someone we watch."""
        session = self._session
        if event.user == session.me:
            hidden = event.ts == ev.HIDDEN
            session.outbox.answered(PrivacyRequest(hidden))
            if self._privacy == hidden:
                self._privacy = None
            session.notify(Notice("privacy", text="hidden" if hidden else "shared"))
            return
        session.outbox.answered(PresenceRequest(event.user))
        self.presence.seen[event.user] = event.ts
        session.notify(Notice("presence", peer=event.user, ts=event.ts,
                              text=PRESENCE_WORDS.get(event.ts, "last seen")))

    def info_answer(self, event: ev.InfoAnswer) -> None:
        """26: who got and read our message."""
        self._session.outbox.answered(InfoRequest(event.group, event.ts))
        self._asked.discard((event.group, event.ts))
        self.presence.info[(event.group, event.ts)] = event.states
        self._session.notify(Notice("receipts", peer=event.group, ts=event.ts,
                                    states=event.states))

    def refused(self, request: InfoRequest | PresenceRequest | PrivacyRequest, code: int,
                words: str) -> None:
        """A 13 answered our 25, 28 or 29: said, not retried (a 29 again at the next login)."""
        if isinstance(request, InfoRequest):
            self._asked.discard((request.group, request.ts))
        elif isinstance(request, PrivacyRequest) and self._privacy == request.hidden:
            self._privacy = None
        elif isinstance(request, PresenceRequest):
            self._watched.pop(request.user, None)  # no such user: not asked again
        self._session.fail_about(None, words, code)

    def receipts(self, group: str, ts: int) -> Receipts | None:
        """The last 26 about our message `ts` in `group`, if one came."""
        return self.presence.info.get((group, ts))
