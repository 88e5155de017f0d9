"""Channels and WhatsApp message templates."""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Q


class ChannelKind(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"
    SANDBOX = "sandbox", "Sandbox"


DEFAULT_OUT_OF_HOURS_REPLY = (
    "Thanks for your message. We're closed right now; an agent will get back to you "
    "as soon as we open."
)
DEFAULT_QUEUE_REPLY = "Thanks for your message. All our agents are busy; you're next in line."
DEFAULT_END_KEYWORD = "//end"


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
    out_of_hours_reply = models.TextField(blank=True, default=DEFAULT_OUT_OF_HOURS_REPLY)
    queue_reply = models.TextField(blank=True, default=DEFAULT_QUEUE_REPLY)
    end_keyword = models.CharField(max_length=32, blank=True, default=DEFAULT_END_KEYWORD)
    config = models.JSONField(default=dict, blank=True)
    secrets = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ChannelKind]), name="channel_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


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
