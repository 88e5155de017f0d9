"""Users of the desk (agents, supervisors, admins), their live connections and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


class Presence(models.TextChoices):
    OFFLINE = "offline", "Offline"
    AVAILABLE = "available", "Available"
    AWAY = "away", "Away"


# What an agent picks on the presence switch; offline is signing out.
CHOOSABLE_PRESENCE = (Presence.AVAILABLE, Presence.AWAY)

MIN_CAPACITY = 1
MAX_CAPACITY = 100
DEFAULT_CAPACITY = 5


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(max_length=150, blank=True)
    capacity = models.PositiveSmallIntegerField(
        default=DEFAULT_CAPACITY, help_text="How many open chats this agent may hold at once."
    )
    departments = models.ManyToManyField("routing.Department", related_name="members", blank=True)
    presence = models.CharField(
        max_length=16,
        choices=Presence.choices,
        default=Presence.OFFLINE,
        help_text="What the agent chose; 'online' is separate: a live browser connection.",
    )
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    # Signing out makes ``presence`` offline; this keeps what the agent last chose, so that
    # signing in again brings it back (a new agent starts Available).
    chosen_presence = models.CharField(
        max_length=16,
        choices=[(p.value, p.label) for p in CHOOSABLE_PRESENCE],
        default=Presence.AVAILABLE,
        help_text="What the agent last chose (Available or Away); restored when they sign in.",
    )
    # When the last live connection closed; routing waits a grace period after it.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(
        null=True, blank=True, help_text="For 'longest idle first' when routing."
    )
    # The zone this user's pages show times in; blank is the desk's (chatdesk.routing.desk_zone).
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The time zone the pages show times in (an IANA name); blank: the desk's.",
    )

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(presence__in=[p.value for p in Presence]), name="user_presence_valid"
            ),
            models.CheckConstraint(
                condition=Q(chosen_presence__in=[p.value for p in CHOOSABLE_PRESENCE]),
                name="user_chosen_presence_valid",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=MIN_CAPACITY) & Q(capacity__lte=MAX_CAPACITY),
                name="user_capacity_in_range",
            ),
        ]
        indexes = [models.Index(fields=["role", "presence"], name="user_role_presence_idx")]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def oversees(self) -> bool:
        """Supervisors and admins see every chat."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN) or self.is_superuser


class Connection(models.Model):
    """One live WebSocket of a user; the user is online while any is fresh."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="connections")
    channel_name = models.CharField(max_length=200, unique=True)
    instance = models.CharField(
        max_length=100, blank=True, help_text="Which app instance holds it."
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="Heartbeat; a stale one no longer counts.")

    class Meta:
        indexes = [models.Index(fields=["user", "last_seen_at"], name="connection_user_seen_idx")]

    def __str__(self) -> str:
        return f"{self.user} via {self.channel_name}"


class ApiToken(models.Model):
    """A bearer token for integrations. Only its SHA-256 is kept; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to tell it apart."
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
