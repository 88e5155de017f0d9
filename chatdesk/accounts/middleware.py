"""Idle sessions end: each request of a signed-in user pushes the session's end
``SESSION_COOKIE_AGE`` (``CHATDESK_SESSION_IDLE_MINUTES``) further out, so a session lasts
while its user works and ends that long after the last request."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from chatdesk.core import clock

# When the session was last pushed forward (a POSIX timestamp, in the session itself).
REFRESHED_AT = "chatdesk_refreshed_at"

# Push at most once a minute: a busy page (live lists refetched on every change) would
# otherwise write its session row on every request, for a minute's worth of precision.
REFRESH_EVERY = 60.0


def _refresh(request: HttpRequest) -> None:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if session is None or user is None or not user.is_authenticated:
        return
    # Only a session someone signed in with: an API call with a bearer token has none,
    # and must not get one.
    if session.get(SESSION_KEY) is None:
        return
    now = clock.now().timestamp()
    refreshed = session.get(REFRESHED_AT)
    if not isinstance(refreshed, int | float) or now - refreshed >= REFRESH_EVERY:
        # A change saves the session: a new end in the database and a new cookie.
        session[REFRESHED_AT] = now


def signed_in(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """A new session already ends a full idle time from now: count it as pushed, so the
    requests of its first minute write nothing."""
    session = getattr(request, "session", None)
    if session is not None:
        session[REFRESHED_AT] = clock.now().timestamp()


@sync_and_async_middleware
def idle_session_expiry(get_response: Any) -> Any:
    """Sync or async like the stack around it."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            response: HttpResponse = await get_response(request)
            # Reading the user and the session may read the database.
            await sync_to_async(_refresh)(request)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        response: HttpResponse = get_response(request)
        _refresh(request)
        return response

    return middleware
