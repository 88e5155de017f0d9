"""Health endpoints for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from chatdesk import __version__


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers; nothing else is checked."""
    return JsonResponse({"status": "ok", "version": __version__})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")
    name = await layer.new_channel("readyz.")
    token = uuid.uuid4().hex
    await layer.send(name, {"type": "readyz.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(name), timeout=2)
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")


async def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the channel layer both answer."""
    if request.method != "GET":
        return JsonResponse({"detail": "Only GET is allowed here."}, status=405)
    checks: dict[str, str] = {}
    try:
        await sync_to_async(_check_database, thread_sensitive=True)()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        await _check_channel_layer()
        checks["channel_layer"] = "ok"
    except Exception as exc:
        checks["channel_layer"] = f"error: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
