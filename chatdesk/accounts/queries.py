"""Reads about users: lookups, who is online, token resolution."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, QuerySet

from chatdesk.accounts.models import ApiToken, Connection, Presence, User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus
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


def session_ends_at(session_key: str) -> datetime | None:
    """When a signed-in browser session ends if nothing pushes it further (see
    ``accounts.middleware``); None when it has ended already or was signed out. The desk
    keeps sessions in the database, Django's default session engine."""
    return (
        Session.objects.filter(session_key=session_key, expire_date__gt=clock.now())
        .values_list("expire_date", flat=True)
        .first()
    )


def fresh_connections() -> QuerySet[Connection]:
    return Connection.objects.filter(last_seen_at__gte=clock.now() - CONNECTION_STALE_AFTER)


def with_online(users: QuerySet[User]) -> QuerySet[User]:
    """Annotate ``is_online``: at least one fresh live connection."""
    return users.annotate(is_online=Exists(fresh_connections().filter(user_id=OuterRef("pk"))))


def only_online(users: QuerySet[User]) -> QuerySet[User]:
    """Only users with at least one fresh live connection."""
    return users.filter(Exists(fresh_connections().filter(user_id=OuterRef("pk"))))


def is_online(user: User | int) -> bool:
    user_id = user if isinstance(user, int) else user.pk
    return fresh_connections().filter(user_id=user_id).exists()


def open_chats_held_by(user: User | int) -> QuerySet[Chat]:
    """The live chats (not tickets) an agent holds: what goes back to the queue when the
    agent leaves."""
    user_id = user if isinstance(user, int) else user.pk
    return _open_live_chats().filter(agent_id=user_id)


def _open_live_chats() -> QuerySet[Chat]:
    return Chat.objects.filter(kind=ChatKind.CHAT, status=ChatStatus.OPEN)


def gone_agents_holding_chats(*, last_seen_before: datetime) -> QuerySet[User]:
    """Users who chose a presence other than offline, hold open chats, have no fresh
    connection, and whose last connection closed before ``last_seen_before``.

    A user who never had a connection (``last_seen_at`` empty) is left alone: nothing of
    theirs went away, and an integration may set presence without a browser."""
    return (
        User.objects.exclude(presence=Presence.OFFLINE)
        .filter(last_seen_at__lt=last_seen_before)
        .filter(Exists(_open_live_chats().filter(agent_id=OuterRef("pk"))))
        .exclude(Exists(fresh_connections().filter(user_id=OuterRef("pk"))))
        .order_by("pk")
    )


def users_for_listing() -> QuerySet[User]:
    return with_online(User.objects.all()).prefetch_related("departments").order_by("username")
