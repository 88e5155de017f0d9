"""The answer to a request Django refuses before any view reads it (Django's ``handler400``):
a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or a form over ``DATA_UPLOAD_MAX_NUMBER_FIELDS``.
Providers and API clients get JSON ``{"detail": "<sentence>"}`` as for every other
refusal; a person on a page gets the sentence on a plain page."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

MACHINE_PATHS = ("/api/", "/webhooks/")


def _sentence(exception: Exception | None) -> tuple[str, int]:
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return (
            f"The request body is larger than the desk accepts ({limit // 1024:,} KiB).",
            413,
        )
    if isinstance(exception, TooManyFieldsSent):
        return (
            "The form has more fields than the desk accepts "
            f"({settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}).",
            400,
        )
    return ("The desk could not read this request.", 400)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    sentence, status = _sentence(exception)
    if request.path.startswith(MACHINE_PATHS) or "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": sentence}, status=status)
    page = f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{escape(sentence)}</p>"
    return HttpResponse(page, status=status)
