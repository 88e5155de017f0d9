"""Response headers every page gets: a Content-Security-Policy that allows no inline
script or style and nothing from other origins, so a customer's text that slipped past
escaping still could not run."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # the page's own /ws/events included
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# django-ninja's interactive API docs page runs its own inline script; the OpenAPI schema
# itself (``/api/v1/openapi.json``) is plain JSON.
EXEMPT_PREFIXES = ("/api/v1/docs",)


def _add_policy(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if not request.path.startswith(EXEMPT_PREFIXES):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


@sync_and_async_middleware
def content_security_policy(get_response: Any) -> Any:
    """Sync or async like the stack around it, so an ASGI request never changes thread
    for it."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            return _add_policy(request, await get_response(request))

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        return _add_policy(request, get_response(request))

    return middleware
