"""Server events in: each one, through one table, to its journal record and its notice.

Theory of operation. Every server event is applied to the State through the
History (so it is journaled), then announced as a Notice. The order matters:
a received message (06) is on disk, fsync'd, before its 12 leaves, and the 12
is sent again for a repeat, because the server keeps redelivering until it
hears it (PROTOCOL.md, "Message identity and delivery"). A 13 about a frame
goes to whoever sent that frame, picked by the type of the request record it
answers (outbox.py); 13/12, 13/13, 13/15 and 13/17 are about the connection
instead, and so are a 13/22 or 13/04 to a connection logged in (the operator's).

Refuses to know about sockets (network.py), files (history.py, profile.py),
logging in (lifecycle.py) and how things are shown (script.py, ui/).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from interzap_client import message_acts, profile
from interzap_client.conversations import Tick
from interzap_client.notices import Notice, error_words
from interzap_client.people import SILENT, Note, words
from interzap_client.session.errors import SessionError
from interzap_client.session.outbox import (
    BlockRequest,
    ChangeRequest,
    GroupRequest,
    InfoRequest,
    LoginRequest,
    NameRequest,
    PresenceRequest,
    PrivacyRequest,
    RegisterRequest,
    SendRequest,
)
from interzap_client.session.states import RemoteStateError
from interzap_client.state import State
from shared import events as ev
from shared.codes import ActKind, ErrorCode
from shared.ids import is_user_id

if TYPE_CHECKING:
    from interzap_client.session.facade import Session

log = logging.getLogger(__name__)

CONNECTION_ERRORS = frozenset({ErrorCode.SERVER_FULL, ErrorCode.TIMEOUT,
                               ErrorCode.TOO_MANY_CONNECTIONS})
"""13/13 server full, 13/15 timeout, 13/17 too many connections from this address: the
server closes the connection; we reconnect."""
SIGNED_OUT = frozenset({ErrorCode.ACCOUNT_DISABLED, ErrorCode.BAD_CREDENTIALS})
"""13/22 or 13/04 to a connection logged in: the operator disabled the account or gave it
a new token, and the server closes the connection (PROTOCOL.md 5.15)."""
_TICK_EVENTS = {Tick.ACCEPTED: "accepted", Tick.DELIVERED: "delivered"}
_ACT_EVENTS = {ActKind.EDIT: "edited", ActKind.DELETE: "deleted", ActKind.REACT: "reaction"}
"""The notice of each kind of 32 but a reply (a reply is a "message")."""

Handler = Callable[[Any], None]
"""Takes the one event type its table row names."""


def change_notice(state: State, event: ev.GroupEvent) -> Notice:
    """The notice of a 24: its op, who, whom (or the name), and the words of its line."""
    text = None
    if event.op not in SILENT:
        text = words(state, Note(event.ts, event.actor, event.op, event.arg, 0))
    user = event.arg if is_user_id(event.arg) else None
    return Notice("group_change", peer=event.group, group=event.group, author=event.actor,
                  ts=event.ts, op=event.op, id=user, name=None if user else event.arg or None,
                  text=text)


class Inbound:
    """Dispatches every event from the server; one method per frame that needs work."""

    def __init__(self, session: Session) -> None:
        self._session = session
        lifecycle, outbox = session.lifecycle, session.outbox
        self._table: dict[type[ev.Event], Handler] = {
            ev.Registered: lifecycle.registered,
            ev.LoggedIn: lifecycle.logged_in_as,
            ev.Deliver: self._deliver,
            ev.Accepted: self._accepted,
            ev.Delivered: self._delivered,
            ev.ReadNotice: self._read_notice,
            ev.GroupCreated: self._group_created,
            ev.Error: self._error,
            ev.BlockList: self._block_list,
            ev.Name: self._name,
            ev.GroupEvent: self._group_event,
            ev.Acted: self._acted,
            ev.InfoAnswer: session.live.info_answer,
            ev.Typing: session.live.typing,
            ev.Presence: session.live.heard_presence,
        }  # 00 (greeting) and 15 (pong) need nothing; 14 is answered by network.py
        self._refusals: dict[type, Callable[[Any, int, str], None]] = {
            SendRequest: outbox.refused_send,
            GroupRequest: outbox.refused_group,
            LoginRequest: lifecycle.refused,
            RegisterRequest: lifecycle.refused,
            BlockRequest: outbox.refused_block,
            ChangeRequest: outbox.refused_change,
            NameRequest: outbox.refused_name,
            InfoRequest: session.live.refused,
            PresenceRequest: session.live.refused,
            PrivacyRequest: session.live.refused,
        }
        """The request a 13 answers -> who deals with its refusal."""

    def handle(self, event: ev.Event) -> None:
        handler = self._table.get(type(event))
        if handler is None:
            return
        name = type(event).__name__  # not the event: a 02 holds the token
        try:
            handler(event)
            self._session.outbox.resume_if_quiet()  # the answer may be the last one awaited
        except RemoteStateError as exc:
            log.warning("unexpected %s: %s", name, exc)
            self._session.fail_about(None, f"the server sent a frame out of turn ({name}: {exc})")
        except (OSError, SessionError, profile.ProfileError) as exc:
            # e.g. a full disk: the 06 is not stored, so no 12 left and it comes again
            log.exception("handling %s failed", name)
            self._session.fail_about(None, f"could not handle a frame from the server: {exc}")

    def _deliver(self, event: ev.Deliver) -> None:
        session = self._session
        if session.history is None:
            return
        new = session.history.apply("msg", durable=True, src=event.src, dst=event.dst,
                                    ts=event.ts, text=event.text, at=session.now())
        # on disk first, then 12 -- and 12 again for a repeat: the server waits for it
        session.net.send(ev.Receipt(event.src, event.dst, event.ts))
        if new:
            self._arrived(event)

    def _arrived(self, event: ev.Deliver | ev.Acted, **reply: Any) -> None:
        """A new message (06, or a reply's 32): counted, announced, read if its chat is open."""
        session = self._session
        session.received += 1
        peer = session.need_state().peer_of(event.src, event.dst)
        group = event.dst if peer == event.dst else None
        session.live.message(event.src, peer)  # they stopped typing there
        session.notify(Notice("message", peer=peer, author=event.src, ts=event.ts,
                              text=event.text, group=group, **reply))
        if peer == session.open_peer:
            session.mark_read(peer)

    def _acted(self, event: ev.Acted) -> None:
        """32: a reply is journaled as a message, an edit, deletion or reaction as an act;
        on disk first, then 12 of its own key (again for a repeat, which changes nothing)."""
        session = self._session
        history = session.history
        if history is None:
            return
        fields: dict[str, Any] = dict(src=event.src, dst=event.dst, ts=event.ts,
                                      text=event.text, at=session.now())
        if event.kind == ActKind.REPLY:
            new = history.apply("msg", durable=True, reply=[event.ref_src, event.ref_ts],
                                **fields)
        else:
            new = history.apply("act", durable=True, kind=event.kind, ref_src=event.ref_src,
                                ref_ts=event.ref_ts, **fields)
        session.net.send(ev.Receipt(event.src, event.dst, event.ts))
        if not new:
            return
        state = session.need_state()
        original = state.original(event.src, event.dst, event.ref_src, event.ref_ts)
        about: dict[str, Any] = dict(ref_author=event.ref_src, ref_ts=event.ref_ts,
                                     known=original is not None)
        if event.kind == ActKind.REPLY:
            self._arrived(event, quote=message_acts.quote(original), **about)
            return
        peer = state.peer_of(event.src, event.dst)
        session.notify(Notice(_ACT_EVENTS[ActKind(event.kind)], peer=peer, author=event.src,
                              ts=event.ts, text=event.text if event.text else None,
                              group=event.dst if peer == event.dst else None, **about))

    def _tick(self, dst: str, ts: int, tick: Tick) -> None:
        history = self._session.history
        if history is not None and history.apply("tick", dst=dst, ts=ts, tick=int(tick)):
            self._session.notify(Notice(_TICK_EVENTS[tick], peer=dst, ts=ts))

    def _accepted(self, event: ev.Accepted) -> None:
        self._session.outbox.answered(SendRequest(event.dst, event.ts))
        self._tick(event.dst, event.ts, Tick.ACCEPTED)

    def _delivered(self, event: ev.Delivered) -> None:
        self._tick(event.dst, event.ts, Tick.DELIVERED)

    def _read_notice(self, event: ev.ReadNotice) -> None:
        history = self._session.history
        if history is not None and history.apply("read", peer=event.peer, ts=event.ts):
            self._session.notify(Notice("read", peer=event.peer, ts=event.ts))

    def _group_created(self, event: ev.GroupCreated) -> None:
        session = self._session
        if session.history is None:
            return
        state = session.need_state()
        ours = bool(event.members) and event.members[0] == state.me
        mine = ours and event.ts in state.pending_groups  # answers a 10 of this client
        if ours:
            session.outbox.answered(GroupRequest(event.ts))
        if session.history.apply("group", group=event.group, ts=event.ts,
                                 members=list(event.members)):
            session.notify(Notice("group", group=event.group, ts=event.ts,
                                  members=event.members, peer=event.group))
        if mine:
            session.open(event.group)
            named = state.people.changes.get((event.group, event.ts))
            if named is not None:  # /group NAME: ...: the rename goes now (PROTOCOL.md 23)
                session.outbox.submit(named)
        if ours:
            session.outbox.settle_group(event.ts, event.group)

    def _block_list(self, event: ev.BlockList) -> None:
        """19: the answer to our 17 or 18, the whole list: journaled, then announced."""
        session = self._session
        request = session.outbox.answered_block()
        if request is not None:
            session.blocks.settle(request)
        if session.history is not None:
            session.history.apply("blocks", users=list(event.users))
        session.notify(Notice("blocked", users=event.users))

    def _name(self, event: ev.Name) -> None:
        """22: a display name (ours: the answer to our 21), journaled, then announced."""
        session = self._session
        if session.history is None:
            return
        if event.user == session.history.state.me:
            session.outbox.answered(NameRequest(event.name))
        if session.history.apply("named", user=event.user, name=event.name):
            session.notify(Notice("name", id=event.user, name=event.name))

    def _group_event(self, event: ev.GroupEvent) -> None:
        """24: a change of a group (ours: the answer to our 23), journaled, announced."""
        session = self._session
        if session.history is None:
            return
        if event.actor == session.history.state.me:
            session.outbox.answered(ChangeRequest(event.group, event.ts))
        if session.history.apply("group_event", group=event.group, ts=event.ts,
                                 actor=event.actor, op=event.op, arg=event.arg):
            session.notify(change_notice(session.need_state(), event))

    def _error(self, event: ev.Error) -> None:
        code, session = event.code, self._session
        words = error_words(code, event.reason)
        if code == ErrorCode.REPLACED:  # unsolicited: the server closes us next
            session.lifecycle.replaced(code)
            return
        if code in SIGNED_OUT and session.lifecycle.logged_in:  # unsolicited, as 13/12
            session.lifecycle.replaced(code, words)
            return
        request = None if code in CONNECTION_ERRORS else session.outbox.oldest()
        if request is None:  # about the connection (it closes next), or about nothing
            session.fail_about(None, words, code)
            return
        self._refusals[type(request)](request, code, words)
