"""One HTTP client per process for the providers' APIs, kept open between sends.

Making an ``httpx.Client`` builds a TLS context with the whole CA bundle, which costs
tens of milliseconds of CPU: more than a send itself, and enough to hold a worker below a
channel's pace. The shared client also keeps connections to Meta and Twilio alive between
messages. It is safe to use from several threads."""

from __future__ import annotations

import threading

import httpx
from django.conf import settings

_lock = threading.Lock()
_clients: dict[float, httpx.Client] = {}


def provider_client() -> httpx.Client:
    """The process's client for the configured send timeout (``CHATDESK_SEND_TIMEOUT``)."""
    timeout = float(settings.CHATDESK_SEND_TIMEOUT)
    with _lock:
        client = _clients.get(timeout)
        if client is None or client.is_closed:
            client = _clients[timeout] = httpx.Client(timeout=timeout)
        return client
