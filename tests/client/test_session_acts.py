"""Session in-process against a real server: a 32 stored, then the client "killed" before its
12 (as tests/client/test_session.py does for a 06), and a reply sent while offline."""

from __future__ import annotations

import asyncio
from asyncio import Task
from pathlib import Path

from clientkit import GUARD, ChatServer, offline, online, register, run, until

from interzap_client.conversations import Message, Tick
from interzap_client.session import Session
from shared import events as ev
from shared.codes import ActKind

THUMBS = "\U0001f44d"


class Killed(Exception):
    """Stands for SIGKILL inside the client, at one chosen instant."""


async def chatting(server: ChatServer, data: Path,
                   text: str) -> tuple[Session, Task[None], Session, Task[None], Message]:
    """Alice and Bob online, Alice's message stored by Bob: the sessions, tasks, message."""
    alice, bob = register(server.port, data), register(server.port, data)
    a, a_task = await online(data, server.port, alice)
    b, b_task = await online(data, server.port, bob)
    message = a.send_text(bob, text)
    await until(b, lambda: message.key in b.need_state().messages)
    return a, a_task, b, b_task, message


def test_session_acts_killed_after_storing_a_reaction_does_not_toggle_it(
        chat_server: ChatServer, tmp_path: Path) -> None:
    """Killed after journaling a 32 but before its 12 left: the server sends it again, the
    client recognises its key (the reaction is not applied twice) and sends the 12."""
    data = tmp_path / "data"

    async def scenario() -> None:
        a, a_task, b, b_task, message = await chatting(chat_server, data, "pizza?")
        alice, bob = a.need_state().me, b.need_state().me
        real_send = b.net.send

        def die_before_receipt(event: ev.Event) -> bool:
            if isinstance(event, ev.Receipt) and event.src == alice:
                b.net._writer.transport.abort()  # type: ignore[union-attr]
                raise Killed
            return real_send(event)

        b.net.send = die_before_receipt  # type: ignore[method-assign]
        a.open(bob)
        reaction = a.act_on(message, ActKind.REACT, THUMBS)
        await asyncio.wait([b_task], timeout=GUARD)
        assert isinstance(b_task.exception(), Killed)
        await offline(b, b_task)
        again, again_task = await online(data, chat_server.port, bob)
        await until(a, lambda: reaction.tick is not None and reaction.tick >= Tick.DELIVERED)
        stored_message = again.need_state().messages[message.key]
        assert stored_message.reactions == {alice: (reaction.ts, THUMBS)}
        assert len(again.need_state().acts) == 1
        await offline(again, again_task)
        await offline(a, a_task)

    run(scenario)


def test_session_acts_reply_sent_offline_goes_after_login(chat_server: ChatServer,
                                                          tmp_path: Path) -> None:
    """A reply and a reaction made while the server is away wait in the outbox and leave,
    with their keys, once logged in; the other side sees the quote and the reaction."""
    data = tmp_path / "data"

    async def scenario() -> None:
        a, a_task, b, b_task, message = await chatting(chat_server, data, "are you in?")
        alice, bob = a.need_state().me, b.need_state().me
        chat_server.stop()
        await until(b, lambda: not b.logged_in)
        original = b.need_state().messages[message.key]
        reply = b.act_on(original, ActKind.REPLY, "yes")
        reaction = b.act_on(original, ActKind.REACT, THUMBS)
        assert reply.tick is Tick.PENDING and reaction.tick is Tick.PENDING
        chat_server.start()
        await until(b, lambda: b.outbox_empty())
        await until(a, lambda: reply.key in a.need_state().messages)
        got = a.need_state().messages[reply.key]
        assert (got.text, got.reply) == ("yes", (alice, message.ts))
        await until(a, lambda: bool(message.reactions))
        assert message.reactions == {bob: (reaction.ts, THUMBS)}
        await offline(b, b_task)
        await offline(a, a_task)

    run(scenario)
