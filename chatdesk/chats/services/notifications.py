"""Reading notifications: each user marks their own as read, one at a time or all at once."""

from __future__ import annotations

from django.db import transaction

from chatdesk.accounts.models import User
from chatdesk.chats.models import Notification
from chatdesk.core import clock
from chatdesk.core.errors import NotFound


def mark_read(*, notification_id: int, by: User) -> Notification:
    """Mark one of the user's notifications read. Reading it again keeps the first time;
    another user's notification is "not found"."""
    with transaction.atomic():
        # Conditional, so two reads at once still keep a single, first read_at.
        Notification.objects.filter(pk=notification_id, recipient=by, read_at__isnull=True).update(
            read_at=clock.now()
        )
        notification = Notification.objects.filter(pk=notification_id, recipient=by).first()
        if notification is None:
            raise NotFound("No notification with that id.")
    return notification


def mark_all_read(*, by: User) -> int:
    """Mark every unread notification of the user read; how many were unread."""
    return Notification.objects.filter(recipient=by, read_at__isnull=True).update(
        read_at=clock.now()
    )
