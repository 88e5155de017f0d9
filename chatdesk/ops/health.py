"""Health endpoints for load balancers and orchestrators.

``/readyz`` is 503 (``unavailable``) only when this process cannot serve: the database or
the channel layer does not answer. A configuration fault (business hours with a time zone
the server does not know, a channel its webhook cannot check) is the same on every
instance and the desk keeps taking messages around it, so taking instances out of
rotation would only stop the intake: it answers 200 with ``status: degraded``, the
``configuration`` check saying how many, and ``problems`` giving each object's kind and
id. The sentences saying what is wrong (names, zones) are for the signed-in set-up pages
only: this endpoint answers anyone who can reach it."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from chatdesk import __version__
from chatdesk.flows.configuration import configuration_faults


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


def _configuration_problems() -> list[dict[str, object]]:
    return [{"object": fault.kind, "id": fault.object_id} for fault in configuration_faults()]


async def readyz(request: HttpRequest) -> JsonResponse:
    """The database and the channel layer both answer; and what is stored can be used."""
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
    problems: list[dict[str, object]] = []
    if checks["database"] == "ok":
        try:
            problems = await sync_to_async(_configuration_problems, thread_sensitive=True)()
            checks["configuration"] = f"degraded: {len(problems)} problem(s)" if problems else "ok"
        except Exception as exc:
            checks["configuration"] = f"error: {exc.__class__.__name__}"
    else:
        checks["configuration"] = "error: the database does not answer"
    status = "unavailable" if not ready else "ok" if checks["configuration"] == "ok" else "degraded"
    return JsonResponse(
        {"status": status, "checks": checks, "problems": problems}, status=200 if ready else 503
    )
