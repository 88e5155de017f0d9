"""WebSocket authentication: the browser's session, or an API token as ``?token=``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator

from chatdesk.accounts.queries import user_for_token


@database_sync_to_async
def _user_for_token(token: str) -> Any:
    return user_for_token(token)


class _TokenMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        if token:
            user = await _user_for_token(token)
            if user is not None:
                scope["user"] = user
                scope["signed_in_with_token"] = True
        return await super().__call__(scope, receive, send)


def TokenOrSessionAuthMiddleware(inner: Any) -> Any:
    """Session auth first; a valid ``?token=`` then takes precedence."""
    return AuthMiddlewareStack(_TokenMiddleware(inner))


class _BrowserOriginValidator(OriginValidator):
    """A browser always sends ``Origin`` on a WebSocket, and it must be one of ours, so
    another site's page cannot open a socket with our user's cookie. A client that sends
    none is not a browser (an integration with ``?token=``): nothing ambient to misuse."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))


def BrowserOriginValidator(inner: Any) -> Any:
    """Django's ALLOWED_HOSTS as the allowed origins, as Channels'
    ``AllowedHostsOriginValidator`` has them, but a missing ``Origin`` is let through."""
    allowed = AllowedHostsOriginValidator(inner)
    return _BrowserOriginValidator(inner, allowed.allowed_origins)
