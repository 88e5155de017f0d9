"""The notifications bell of the top bar, on every signed-in page.

The page renders only the bell's shell, at no database cost (pages pin their query
counts); panel.js fills it in from ``notifications/bell/`` as soon as the page loads, and
again on every ``desk:notification``."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("web/_panel_bell.html")
def notification_bell() -> dict[str, Any]:
    return {
        "bell_unread": 0,
        "bell_items": [],
        "bell_url": reverse("notification-bell"),
        "bell_pending": True,
    }
