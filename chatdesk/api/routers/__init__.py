"""One router per resource; each endpoint parses, calls one service or query, shapes."""

from __future__ import annotations

from django.http import HttpRequest

from chatdesk.accounts.models import User
from chatdesk.core.errors import NotAuthenticated


def acting_user(request: HttpRequest) -> User:
    """The signed-in user the API's authentication put on the request."""
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        raise NotAuthenticated("Sign in, or send a valid API token.")
    return user
