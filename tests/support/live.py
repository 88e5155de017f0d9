"""Helpers for live-event tests: sockets through Channels' WebsocketCommunicator, and
customers writing in through the inbound service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.asgi import application
from chatdesk.chats.models import Message
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel
from tests.support.capture import Inbox
from tests.support.personas import ApiClient

ORIGIN = (b"origin", b"http://localhost")

Frame = dict[str, Any]

_ids = iter(range(1, 10_000_000))

CONNECT_TIMEOUT = 10.0


class Socket(WebsocketCommunicator):
    """Channels' test communicator, with a connect that waits as long as our other live
    waits do: the handshake reads the session from the database, and under a loaded CI
    machine that takes longer than Channels' one-second default."""

    async def connect(self, timeout: float = CONNECT_TIMEOUT) -> tuple[bool, int | str | None]:
        return await super().connect(timeout)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async scenario from a sync test; the consumer's database calls come back to
    this thread, so they share the test's database connection."""
    async_to_sync(scenario)()


@database_sync_to_async
def db(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user: User, *, since: int | None = None) -> WebsocketCommunicator:
    cookie = await db(session_cookie, user)
    path = "/ws/events" if since is None else f"/ws/events?since={since}"
    communicator = Socket(application, path, headers=[ORIGIN, (b"cookie", cookie)])
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


PING = json.dumps({"type": "ping"})


async def frames(communicator: WebsocketCommunicator, *, timeout: float = 10.0) -> list[Frame]:
    """Every frame the server sends before it answers a ping sent now: "nothing else
    arrives" without waiting out a quiet period. The server answers a ping only after a
    database round trip, and the hub offers an event it was handed to every socket at
    once, so whatever was committed (or replayed) before the ping arrives first."""
    await communicator.send_to(text_data=PING)
    received: list[Frame] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"no pong within {timeout} s; received {received}"
        try:
            frame = json.loads(await communicator.receive_from(timeout=remaining))
        except TimeoutError:
            raise AssertionError(f"no pong within {timeout} s; received {received}") from None
        if frame.get("type") == "pong":
            return received
        received.append(frame)


async def frames_until(
    communicator: WebsocketCommunicator,
    done: Callable[[list[dict[str, Any]]], bool],
    *,
    timeout: float = 5.0,
) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done(received):
        assert loop.time() < deadline, f"gave up waiting; received {received}"
        if not await communicator.receive_nothing(timeout=0.05, interval=0.01):
            received.append(json.loads(await communicator.receive_from()))
    return received


def customer_writes(channel: Channel, phone: str, text: str) -> Message:
    n = next(_ids)
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"live-{n}",
            from_phone=phone,
            timestamp=datetime.now(UTC),
            content_type="text",
            text=text,
        ),
    )
    assert message is not None
    return message


def types(received: list[dict[str, Any]]) -> list[str]:
    return [frame["type"] for frame in received]


def about_chats(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the presence changes that sockets opening and closing cause."""
    return [frame for frame in received if frame.get("type") != "presence.changed"]


ApiAs = Callable[[User | None], ApiClient]
Online = Callable[..., User]

# What a client receives, and nothing more: never who else may see the event.
FRAME_KEYS = {"seq", "type", "chat_id", "data"}


Listener: TypeAlias = WebsocketCommunicator | Inbox


async def chat_frames(listener: Listener, count: int) -> list[Frame]:
    """The next ``count`` frames that are not presence changes, then any more that arrived
    (see ``frames``), so an extra frame fails the test's comparison. From a socket, or
    from an inbox of ``tests.support.capture`` (fewer than ``count`` fails at once)."""
    if isinstance(listener, Inbox):
        received = about_chats(await listener.receive())
        assert len(received) >= count, f"expected {count} frames; received {received}"
    else:
        received = await frames_until(listener, lambda got: len(about_chats(got)) >= count)
        received = about_chats(received + await frames(listener))
    for frame in received:
        assert set(frame) == FRAME_KEYS, frame
    assert_in_seq_order(received)
    return received


async def nothing(listener: Listener) -> None:
    """No frame but presence changes arrived (call it after a positive viewer got theirs:
    the hub offers an event to every socket at once)."""
    received = await listener.receive() if isinstance(listener, Inbox) else await frames(listener)
    assert about_chats(received) == []


async def connect_all(*users: User) -> list[WebsocketCommunicator]:
    return [await connect(user) for user in users]


async def disconnect_all(*listeners: Listener) -> None:
    for listener in listeners:
        await listener.disconnect()


def assert_in_seq_order(received: list[Frame]) -> None:
    seqs = [frame["seq"] for frame in received]
    assert seqs == sorted(set(seqs)), seqs


async def frames_until_closed(
    communicator: WebsocketCommunicator, seconds: float
) -> tuple[list[Frame], int | None]:
    """What the server sent, then the close code, within ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    received: list[Frame] = []
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"the socket was still open after {seconds} s"
        try:
            output = await communicator.receive_output(timeout=remaining)
        except TimeoutError:
            raise AssertionError(f"the socket was still open after {seconds} s") from None
        if output["type"] == "websocket.close":
            return received, output.get("code")
        if output["type"] == "websocket.send":
            received.append(json.loads(output["text"]))


def phone(n: int) -> str:
    """A customer's number for the live-event tests (``tests.support.chats.phone`` is
    another range)."""
    return f"+2782555{n:04d}"
