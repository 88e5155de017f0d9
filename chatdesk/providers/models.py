"""Channels, WhatsApp message templates, and what providers sent that the desk kept raw."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class ChannelKind(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"
    SANDBOX = "sandbox", "Sandbox"


DEFAULT_OUT_OF_HOURS_REPLY = (
    "Thanks for your message. We're closed right now; an agent will get back to you "
    "as soon as we open."
)
DEFAULT_QUEUE_REPLY = "Thanks for your message. All our agents are busy; you're next in line."
# In business hours with no agent online and available: not "closed", and not a queue
# either (the chat becomes a ticket that the next free agent picks up).
DEFAULT_NOBODY_AVAILABLE_REPLY = (
    "Thanks for your message. All our agents are busy right now; we'll reply as soon as "
    "one is free."
)
DEFAULT_END_KEYWORD = "//end"

# Messages per second a channel may send: at least one, at most Meta's highest tier.
MIN_SEND_RATE = 1
MAX_SEND_RATE = 1000


def default_send_rate() -> int:
    """A new channel's pace: CHATDESK_SEND_RATE (80 a second, Meta's default), kept in
    bounds."""
    return max(MIN_SEND_RATE, min(MAX_SEND_RATE, int(settings.CHATDESK_SEND_RATE)))


class Channel(models.Model):
    """One of our numbers on one provider.

    ``config`` holds what may be shown (ids, URLs, the sending number); ``secrets`` holds
    tokens and keys, which are written but never read back through the API or the admin.
    """

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    department = models.ForeignKey(
        "routing.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="channels",
    )
    out_of_hours_reply = models.TextField(
        blank=True,
        default=DEFAULT_OUT_OF_HOURS_REPLY,
        help_text="Sent to a new chat that arrives outside business hours: it becomes a ticket.",
    )
    queue_reply = models.TextField(blank=True, default=DEFAULT_QUEUE_REPLY)
    # db_default too: rows written by SQL that names its columns (bulk loads) get it.
    nobody_available_reply = models.TextField(
        blank=True,
        default=DEFAULT_NOBODY_AVAILABLE_REPLY,
        db_default=DEFAULT_NOBODY_AVAILABLE_REPLY,
        help_text=(
            "Sent in business hours when no agent is online and available: the chat "
            "becomes a ticket. Out of hours the out-of-hours reply goes instead."
        ),
    )
    end_keyword = models.CharField(max_length=32, blank=True, default=DEFAULT_END_KEYWORD)
    config = models.JSONField(default=dict, blank=True)
    secrets = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    send_rate = models.PositiveIntegerField(
        "send rate (messages per second)",
        default=default_send_rate,
        validators=[MinValueValidator(MIN_SEND_RATE), MaxValueValidator(MAX_SEND_RATE)],
        help_text=(
            f"At most this many messages a second go out through this number, whatever the "
            f"number of workers (from {MIN_SEND_RATE} to {MAX_SEND_RATE}). WhatsApp allows 80 by "
            "default and 1,000 once Meta raises the number's throughput; a Twilio long code "
            "takes 1, a short code 100."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ChannelKind]), name="channel_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(send_rate__gte=MIN_SEND_RATE, send_rate__lte=MAX_SEND_RATE),
                name="channel_send_rate_in_range",
            ),
            # "Support" and "support" are one name: a person tells channels apart by it.
            models.UniqueConstraint(Lower("name"), name="channel_name_unique_ignoring_case"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class SendPace(models.Model):
    """When a channel's next message may go out. Every worker reserves its send slot here
    with one conditional UPDATE (see ``providers/pacing.py``), so together they keep the
    channel's rate. A row of its own, not a column of ``Channel``: saving a channel from
    the set-up pages must never write back a stale slot."""

    channel = models.OneToOneField(
        Channel, primary_key=True, on_delete=models.CASCADE, related_name="pace"
    )
    next_slot_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.channel_id}: next slot {self.next_slot_at}"


class ProviderEventKind(models.TextChoices):
    UNREADABLE = "unreadable", "Unreadable"


class ProviderEvent(models.Model):
    """An item of a webhook the desk could not store as a message or a status (a sender
    that is no phone number, a field missing): kept as the provider sent it, with the
    reason, for the admins to see on the set-up pages. The webhook it came in is answered
    2xx once everything else in it is stored, so the provider does not retry it for ever
    and the valid messages beside it are not refused with it. A retried webhook keeps each
    item once (its digest is unique per channel)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="provider_events")
    kind = models.CharField(max_length=16, choices=ProviderEventKind.choices)
    reason = models.TextField()
    provider_message_id = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    digest = models.CharField(max_length=64)  # sha256 of the item's canonical JSON
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["channel", "-received_at"], name="provider_event_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "digest"], name="provider_event_kept_once_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ProviderEventKind]),
                name="provider_event_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.channel_id}: {self.reason[:60]}"


class TemplateCategory(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    UTILITY = "utility", "Utility"
    AUTHENTICATION = "authentication", "Authentication"


class TemplateStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Pending"
    REJECTED = "rejected", "Rejected"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled"


PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class Template(models.Model):
    """A pre-approved WhatsApp message with numbered variables ``{{1}}``, ``{{2}}``…"""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16, default="en_US")
    category = models.CharField(
        max_length=16, choices=TemplateCategory.choices, default=TemplateCategory.UTILITY
    )
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.PENDING
    )
    provider_template_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="template_unique_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(category__in=[c.value for c in TemplateCategory]),
                name="template_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TemplateStatus]),
                name="template_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def variable_count(self) -> int:
        """The highest placeholder number in the body: ``{{1}} … {{3}}`` takes three."""
        numbers = [int(n) for n in PLACEHOLDER.findall(self.body)]
        return max(numbers, default=0)
