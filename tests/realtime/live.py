"""Helpers for live-event tests: sockets through Channels' WebsocketCommunicator, and
customers writing in through the inbound service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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

ORIGIN = (b"origin", b"http://localhost")

_ids = iter(range(1, 10_000_000))


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
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, (b"cookie", cookie)])
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


async def frames(
    communicator: WebsocketCommunicator, *, quiet: float = 0.3
) -> list[dict[str, Any]]:
    """Every frame that arrives until none has for ``quiet`` seconds."""
    received = []
    # receive_nothing waits without cancelling the app, as a timed-out receive_from would.
    while not await communicator.receive_nothing(timeout=quiet, interval=0.02):
        received.append(json.loads(await communicator.receive_from()))
    return received


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
