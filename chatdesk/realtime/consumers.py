"""The live-events WebSocket, ``/ws/events`` (CONTRACT.md): after ``?since=N``, every
missed event the user may see, in order, then the live ones from this process's hub."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from chatdesk.accounts.queries import CONNECTION_STALE_AFTER, session_ends_at
from chatdesk.chats.access import Viewer, viewer_for, visible_events
from chatdesk.core import clock
from chatdesk.flows import presence as presence_flow
from chatdesk.realtime import log as live_log
from chatdesk.realtime.heartbeats import refresher
from chatdesk.realtime.hub import Hub, Overflow, Subscription, get_hub

log = logging.getLogger(__name__)

# Close codes in the 4000 range are ours.
CLOSE_UNAUTHENTICATED = 4401  # not signed in, signed out, or deactivated
CLOSE_BAD_REQUEST = 4400  # a ``since`` that is not a whole number
CLOSE_TOO_SLOW = 4429  # the client fell too far behind; it was sent ``resync`` first
CLOSE_INTERNAL = 1011  # the server could not go on with this socket; reconnect

# Events read from the log per query while catching up.
REPLAY_BATCH = 500

RESYNC = json.dumps({"type": "resync"})

# Which app instance holds a connection, for operators reading the Connection rows.
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"

_opened = database_sync_to_async(presence_flow.connection_opened)
_closed = database_sync_to_async(presence_flow.connection_closed)
_viewer = database_sync_to_async(viewer_for)
_session_ends_at = database_sync_to_async(session_ends_at)


def parse_since(query_string: bytes) -> int | None:
    """``?since=N``: a whole number ≥ 0, or absent. Raises ValueError otherwise."""
    values = parse_qs(query_string.decode("latin-1")).get("since")
    if not values or values[0] == "":
        return None
    since = int(values[0])
    if since < 0:
        raise ValueError(since)
    return since


@database_sync_to_async
def _replay_plan(since: int) -> tuple[bool, int]:
    """(must the client resync?, the newest seq). Resync when events after ``since``
    were already forgotten, or ``since`` is newer than anything we ever numbered."""
    first, last = live_log.log_bounds()
    if last is None:
        return since > 0, 0
    assert first is not None
    return since < first - 1 or since > last, last


@database_sync_to_async
def _replay_batch(viewer: Viewer, after: int) -> list[tuple[int, str]]:
    rows = visible_events(viewer).filter(seq__gt=after).order_by("seq")[:REPLAY_BATCH]
    return [
        (
            row.seq,
            json.dumps(live_log.frame(live_log.as_dict(row)), separators=(",", ":")),
        )
        for row in rows
        if row.seq is not None
    ]


def heartbeat_every() -> float:
    """Seconds between the server's own refreshes of a live connection's row; never so
    long that a live connection could go stale between two."""
    stale = CONNECTION_STALE_AFTER.total_seconds()
    return min(float(settings.CHATDESK_WS_HEARTBEAT), stale / 2)


class LiveEventsConsumer(AsyncJsonWebsocketConsumer):
    """Each open socket of a signed-in user is a Connection row, so the user is online
    while any of their sockets is (see accounts.services.connection_opened)."""

    # No channel layer (an alias that names none): live events come from the hub, so a
    # socket has nothing to read there. With channels_redis, each socket would wait on
    # Redis in BZPOPMIN for 5 s at a time, which redis-py 8's default 5-s read timeout
    # turns into an error that ends the socket after 5 s.
    channel_layer_alias = "live-events-need-no-channel-layer"

    # Frames other than pings refresh the row at most this often (seconds), so a chatty
    # client does not turn into a write per frame.
    seen_at_most_every = 1.0

    connection_key: str | None = None
    _heartbeat: asyncio.Task[None] | None = None
    _last_seen = 0.0

    hub: Hub | None = None
    subscription: Subscription | None = None
    last_sent = 0
    _pump: asyncio.Task[None] | None = None

    # A socket signed in with the browser's session ends with it (idle expiry, sign-out
    # in another process): the heartbeat reads the session's end again once it is due.
    session_key: str | None = None
    session_ends: datetime | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chores: set[asyncio.Future[None]] = set()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            since = parse_since(self.scope.get("query_string", b""))
        except ValueError:
            await self.accept()
            await self.send_json(
                {"type": "error", "detail": "since must be a whole number of 0 or more."}
            )
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        session = self.scope.get("session")
        if session is not None and not self.scope.get("signed_in_with_token"):
            self.session_key = session.session_key
            self.session_ends = await _session_ends_at(self.session_key)
            if self.session_ends is None:  # ended since the user was read
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
        viewer = await _viewer(user)
        # The channel name is unique per socket; without a channel layer, make one up.
        key = getattr(self, "channel_name", None) or f"local!{uuid.uuid4().hex}"
        await _opened(user=user, channel_name=key, instance=INSTANCE)
        self.connection_key = key
        self._last_seen = time.monotonic()
        await self.accept()
        # Listen first, then read the log: whatever commits in between arrives both
        # ways, and seq drops the copy.
        self.hub = await get_hub()
        self.subscription = self.hub.subscribe(
            viewer,
            on_control=self._on_control,
            on_overflow=self._fell_behind,
            on_viewer=self._on_viewer,
        )
        self.last_sent = self.hub.last
        if since is not None:
            await self._catch_up(viewer, since)
        self._pump = asyncio.create_task(self._send_live())
        self._heartbeat = asyncio.create_task(self._beat(heartbeat_every()))

    async def _catch_up(self, viewer: Viewer, since: int) -> None:
        must_resync, newest = await _replay_plan(since)
        if must_resync:
            await self.send(text_data=RESYNC)
            self.last_sent = max(self.last_sent, newest)
            return
        after = since
        while True:
            batch = await _replay_batch(viewer, after)
            for seq, text in batch:
                await self.send(text_data=text)
                after = seq
            if len(batch) < REPLAY_BATCH:
                break
        # The log held every visible event up to ``after``; later ones are in the buffer.
        self.last_sent = max(after, since)

    async def _send_live(self) -> None:
        try:
            await self._pump_frames()
        except asyncio.CancelledError:
            raise
        except OSError:  # the client went away mid-send; its disconnect follows
            return
        except Exception:
            # Never leave a socket open that has stopped delivering: closing makes the
            # client reconnect with ``since`` and catch up.
            log.exception("live events: could not send to a client; closing its socket")
            with contextlib.suppress(Exception):
                await self.close(code=CLOSE_INTERNAL)

    async def _pump_frames(self) -> None:
        subscription = self.subscription
        assert subscription is not None
        while True:
            item = await subscription.get()
            if isinstance(item, Overflow):
                return  # _fell_behind, called by the hub, lets the client go
            seq, text = item
            if seq <= self.last_sent:
                continue
            await self.send(text_data=text)
            self.last_sent = seq

    def _fell_behind(self) -> None:
        self._spawn(self._too_slow())

    async def _too_slow(self) -> None:
        """The client could not keep up: let it go, then tell it to reload. The server's
        ``send`` waits while the socket's write buffer is full (uvicorn does), so a client
        that reads nothing would hold the pump, and the close, for as long as it lives:
        first stop the pump and forget the socket (its buffer, its Connection row), then
        queue ``resync`` and the close, which reach the client whenever it reads again."""
        log.info("live events: a client fell too far behind; closing it with resync")
        await self.disconnect(CLOSE_TOO_SLOW)
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.send(text_data=RESYNC)
            await self.close(code=CLOSE_TOO_SLOW)

    def _on_control(self, message: dict[str, Any]) -> None:
        user = self.scope.get("user")
        if user is None or message.get("user_id") != user.pk:
            return
        if message.get("kind") == "logout":
            session = self.scope.get("session")
            if session is not None and session.session_key == message.get("session_key"):
                self._spawn(self.close(code=CLOSE_UNAUTHENTICATED))

    def _on_viewer(self, viewer: Viewer) -> None:
        """The user changed (the hub already addresses later events accordingly); a
        deactivated user's socket ends."""
        if not viewer.is_active:
            self._spawn(self.close(code=CLOSE_UNAUTHENTICATED))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def disconnect(self, code: int) -> None:
        for task in (self._pump, self._heartbeat):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._pump = self._heartbeat = None
        if self.hub is not None and self.subscription is not None:
            self.hub.unsubscribe(self.subscription)
            self.subscription = None
        if self.connection_key is not None:
            key, self.connection_key = self.connection_key, None
            refresher().forget(key)
            await _closed(channel_name=key)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Any frame proves the browser is there; a ping, the client's own heartbeat, always
        # refreshes the row, and is answered once it is fresh. Neither is awaited here:
        # the socket goes on reading while its refresh waits for the database.
        content = None
        if text_data is not None:
            with contextlib.suppress(ValueError):
                content = json.loads(text_data)
        if isinstance(content, dict) and content.get("type") == "ping":
            self._spawn(self._pong())
        else:
            self._spawn(self._refresh())

    async def _refresh(self, *, force: bool = False) -> None:
        try:
            await self._mark_seen(force=force)
        except Exception:  # a database hiccup must not end the socket; the next one retries
            log.exception("could not refresh a live connection")

    async def _pong(self) -> None:
        await self._refresh(force=True)
        if self.connection_key is not None:  # not closed meanwhile
            await self.send_json({"type": "pong"})

    async def _mark_seen(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.connection_key is None:
            return
        if not force and now - self._last_seen < self.seen_at_most_every:
            return
        self._last_seen = now
        await refresher().refresh(
            channel_name=self.connection_key, user=self.scope["user"], instance=INSTANCE
        )

    async def _beat(self, every: float) -> None:
        """While the socket is open, keep its row fresh; the server's own WebSocket pings
        notice a vanished browser and close the socket, which deletes the row."""
        while True:
            await asyncio.sleep(every)
            try:
                await self._mark_seen(force=True)
                if not await self._session_lives():
                    await self.close(code=CLOSE_UNAUTHENTICATED)
                    return
            except Exception:  # a database hiccup must not end the heartbeat
                log.exception("could not refresh a live connection; trying again later")

    async def _session_lives(self) -> bool:
        if self.session_key is None or self.session_ends is None:
            return True
        if clock.now() < self.session_ends:
            return True
        self.session_ends = await _session_ends_at(self.session_key)
        return self.session_ends is not None
