"""Reads about users: lookups, who is online, token resolution, one agent at a glance."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from chatdesk.accounts.models import ApiToken, Connection, Presence, Role, User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus
from chatdesk.core import clock
from chatdesk.routing.desk_zone import desk_time_zone

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


# --- Presence as people read it -------------------------------------------------------------


@dataclass(frozen=True)
class PresenceState:
    """What an agent's presence and connection mean together, in the words the pages
    use: ``receiving`` only when Available and connected; ``tone`` is ``on`` (receiving),
    ``warn`` (at the desk in some way, yet not receiving) or ``off`` (signed out)."""

    label: str
    receiving: bool
    tone: str


def presence_state(presence: str, *, online: bool) -> PresenceState:
    if presence == Presence.AVAILABLE:
        if online:
            return PresenceState("Available · connected", True, "on")
        return PresenceState("Available · not connected", False, "warn")
    if presence == Presence.AWAY:
        if online:
            return PresenceState("Connected · Away", False, "warn")
        return PresenceState("Away · not connected", False, "warn")
    if online:
        return PresenceState("Connected · not receiving chats", False, "warn")
    return PresenceState("Signed out", False, "off")


@dataclass(frozen=True)
class TeamMember:
    agent: User
    state: PresenceState


def team_presence() -> list[TeamMember]:
    """Every active agent with what their presence means now, by name: the supervisors'
    view of who receives chats, and who is at the desk but does not. One query."""
    agents = with_online(User.objects.filter(role=Role.AGENT, is_active=True))
    members = [
        TeamMember(a, presence_state(a.presence, online=bool(getattr(a, "is_online", False))))
        for a in agents
    ]
    members.sort(key=lambda m: (m.agent.name.casefold(), m.agent.pk))
    return members


# --- One agent at a glance ------------------------------------------------------------------


@dataclass(frozen=True)
class AgentSummary:
    """One agent at a glance: load, presence and today's figures."""

    agent: User
    online: bool
    open_chats: int
    tickets: int
    closed_today: int
    first_responses_today: int
    average_first_response: timedelta | None

    @property
    def state(self) -> PresenceState:
        return presence_state(self.agent.presence, online=self.online)


def start_of_today() -> datetime:
    """Midnight in the desk's time zone: what "today" means in the summary."""
    local = timezone.localtime(clock.now(), desk_time_zone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def agent_summary(agent_id: int) -> AgentSummary | None:
    """An agent's open chats and tickets, presence and today's closes and first responses,
    in three queries; None when there is no such user."""
    agent = with_online(User.objects.filter(pk=agent_id)).first()
    if agent is None:
        return None
    today = start_of_today()
    counts = Chat.objects.filter(agent_id=agent_id).aggregate(
        open_chats=Count("id", filter=Q(kind=ChatKind.CHAT, status=ChatStatus.OPEN)),
        tickets=Count("id", filter=Q(kind=ChatKind.TICKET, status=ChatStatus.OPEN)),
        closed_today=Count(
            "id",
            filter=Q(kind=ChatKind.CHAT, status=ChatStatus.CLOSED, closed_at__gte=today),
        ),
    )
    # How long the contact waited for the agent's first reply, from when the chat reached
    # the agent (or began, for one assigned at once).
    answered = Chat.objects.filter(agent_id=agent_id, first_response_at__gte=today).values_list(
        "first_response_at", "assigned_at", "created_at"
    )
    waits = [first - (assigned or created) for first, assigned, created in answered if first]
    average = sum(waits, timedelta()) / len(waits) if waits else None
    return AgentSummary(
        agent=agent,
        online=bool(getattr(agent, "is_online", False)),
        open_chats=int(counts["open_chats"] or 0),
        tickets=int(counts["tickets"] or 0),
        closed_today=int(counts["closed_today"] or 0),
        first_responses_today=len(waits),
        average_first_response=average,
    )


@dataclass(frozen=True)
class SignInLockout:
    """Sign-in by this username from ``address`` is refused until ``until`` (django-axes:
    too many failed attempts)."""

    address: str
    failures: int
    until: datetime


def sign_in_lockouts(user: User) -> list[SignInLockout]:
    """The addresses this user's username is locked out from now, soonest end first."""
    since = clock.now() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(
        username__iexact=user.username,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=since,
    ).order_by("attempt_time", "pk")
    return [
        SignInLockout(
            address=row.ip_address or "an unknown address",
            failures=row.failures_since_start,
            until=row.attempt_time + settings.AXES_COOLOFF_TIME,
        )
        for row in rows
    ]
