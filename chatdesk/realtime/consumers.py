"""The live-events WebSocket, ``/ws/events``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from chatdesk.accounts import services as account_services
from chatdesk.accounts.queries import CONNECTION_STALE_AFTER

log = logging.getLogger(__name__)

# Close codes in the 4000 range are ours: 4401 = not signed in.
CLOSE_UNAUTHENTICATED = 4401

# Which app instance holds a connection, for operators reading the Connection rows.
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"

_opened = database_sync_to_async(account_services.connection_opened)
_seen = database_sync_to_async(account_services.connection_seen)
_closed = database_sync_to_async(account_services.connection_closed)


def heartbeat_every() -> float:
    """Seconds between the server's own refreshes of a live connection's row; never so
    long that a live connection could go stale between two."""
    stale = CONNECTION_STALE_AFTER.total_seconds()
    return min(float(settings.CHATDESK_WS_HEARTBEAT), stale / 2)


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Each open socket of a signed-in user is a Connection row, so the user is online
    while any of their sockets is (see accounts.services.connection_opened)."""

    # Frames other than pings refresh the row at most this often (seconds), so a chatty
    # client does not turn into a write per frame.
    seen_at_most_every = 1.0

    connection_key: str | None = None
    _heartbeat: asyncio.Task[None] | None = None
    _last_seen = 0.0

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The channel name is unique per socket; without a channel layer, make one up.
        key = getattr(self, "channel_name", None) or f"local!{uuid.uuid4().hex}"
        await _opened(user=user, channel_name=key, instance=INSTANCE)
        self.connection_key = key
        self._last_seen = time.monotonic()
        await self.accept()
        self._heartbeat = asyncio.create_task(self._beat(heartbeat_every()))

    async def disconnect(self, code: int) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self.connection_key is not None:
            key, self.connection_key = self.connection_key, None
            await _closed(channel_name=key)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Any frame proves the browser is there; a ping, the client's own heartbeat, always
        # refreshes the row, and is answered.
        content = None
        if text_data is not None:
            with contextlib.suppress(ValueError):
                content = json.loads(text_data)
        is_ping = isinstance(content, dict) and content.get("type") == "ping"
        await self._mark_seen(force=is_ping)
        if is_ping:
            await self.send_json({"type": "pong"})

    async def _mark_seen(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.connection_key is None:
            return
        if not force and now - self._last_seen < self.seen_at_most_every:
            return
        self._last_seen = now
        await _seen(channel_name=self.connection_key, user=self.scope["user"], instance=INSTANCE)

    async def _beat(self, every: float) -> None:
        """While the socket is open, keep its row fresh; the server's own WebSocket pings
        notice a vanished browser and close the socket, which deletes the row."""
        while True:
            await asyncio.sleep(every)
            try:
                await self._mark_seen(force=True)
            except Exception:  # a database hiccup must not end the heartbeat
                log.exception("could not refresh a live connection; trying again later")
