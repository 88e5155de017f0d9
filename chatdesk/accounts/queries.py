"""Reads about users: lookups, who is online, token resolution."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet

from chatdesk.accounts.models import ApiToken, Connection, User
from chatdesk.core import clock

# A connection whose heartbeat is older than this no longer makes its user online.
CONNECTION_STALE_AFTER = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or None. The lookup is by hash, so the
    comparison happens inside the database's unique index, not on secret bytes in Python."""
    if not token or len(token) > 200:
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return row.user if row else None


def fresh_connections() -> QuerySet[Connection]:
    return Connection.objects.filter(last_seen_at__gte=clock.now() - CONNECTION_STALE_AFTER)


def with_online(users: QuerySet[User]) -> QuerySet[User]:
    """Annotate ``is_online``: at least one fresh live connection."""
    return users.annotate(is_online=Exists(fresh_connections().filter(user_id=OuterRef("pk"))))


def is_online(user: User) -> bool:
    return fresh_connections().filter(user=user).exists()


def users_for_listing() -> QuerySet[User]:
    return with_online(User.objects.all()).prefetch_related("departments").order_by("username")
