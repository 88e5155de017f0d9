"""How numbered events travel from the process that made them to every app instance.

- In this process: straight to the hub of each running event loop.
- Across processes and hosts, when ``REDIS_URL`` is set: one Redis pub/sub channel that
  every instance's hub subscribes to (one PUBLISH per batch, whatever the audience).
- Always, as the safety net: each hub reads the log for what it has not seen, on a gap
  in ``seq``, after Redis reconnects, and on a short timer (the only path between
  processes when there is no Redis, as with the embedded SQLite default).

Pub/sub may drop a message (Redis restarting); the log never does, so nothing is missed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any, Protocol

import redis
from django.conf import settings
from django.db import connection

from chatdesk.realtime.log import LiveEnvelope

log = logging.getLogger(__name__)


class Receiver(Protocol):
    """What the transport needs of a hub: a way in from any thread of this process."""

    def deliver_threadsafe(self, message: dict[str, Any]) -> None: ...


_hubs: set[Receiver] = set()
_hubs_lock = threading.Lock()
_redis: redis.Redis | None = None
_redis_lock = threading.Lock()


def channel_name() -> str:
    """The pub/sub channel, one per database, so desks sharing a Redis stay apart."""
    db = connection.settings_dict
    identity = f"{db.get('HOST')}:{db.get('PORT')}/{db.get('NAME')}"
    return "chatdesk.events." + hashlib.sha256(identity.encode()).hexdigest()[:16]


def register(hub: Receiver) -> None:
    with _hubs_lock:
        _hubs.add(hub)


def unregister(hub: Receiver) -> None:
    with _hubs_lock:
        _hubs.discard(hub)


def _client() -> redis.Redis:
    global _redis
    with _redis_lock:
        if _redis is None:
            _redis = redis.Redis.from_url(
                str(settings.REDIS_URL), socket_timeout=2.0, socket_connect_timeout=2.0
            )
        return _redis


def broadcast(events: list[LiveEnvelope]) -> None:
    """Hand numbered events (``log.as_dict``) to every hub. Never raises: the event
    is safe in the log, and hubs read the log when a message goes astray."""
    _send({"events": events})


def broadcast_control(message: dict[str, Any]) -> None:
    """A message for the hubs themselves, not for clients (a user changed, signed out)."""
    _send({"control": message})


def _send(message: dict[str, Any]) -> None:
    with _hubs_lock:
        hubs = list(_hubs)
    for hub in hubs:
        hub.deliver_threadsafe(message)
    if settings.REDIS_URL:
        try:
            _client().publish(channel_name(), json.dumps(message, separators=(",", ":")))
        except redis.RedisError:
            log.warning("could not publish live events to Redis; hubs will read the log")
