"""WebSocket authentication: the browser's session, or an API token as ``?token=``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

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
        return await super().__call__(scope, receive, send)


def TokenOrSessionAuthMiddleware(inner: Any) -> Any:
    """Session auth first; a valid ``?token=`` then takes precedence."""
    return AuthMiddlewareStack(_TokenMiddleware(inner))
