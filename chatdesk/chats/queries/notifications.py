"""Reads about notifications: a user's latest, and how many are unread."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.chats.models import Notification

NOTIFICATION_LIMIT = 100


def notifications_of(
    user: User, *, unread: bool = False, limit: int = NOTIFICATION_LIMIT
) -> list[Notification]:
    """A user's latest notifications, newest first; with ``unread``, only unread ones."""
    notifications = Notification.objects.filter(recipient=user)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return list(notifications.order_by("-created_at", "-id")[:limit])


def bell_notifications(user: User, *, limit: int) -> list[Notification]:
    """A user's latest notifications, newest first, with the chat's contact and agent, the
    comment's author and the notification's actor joined: what the bell lists."""
    notifications = Notification.objects.filter(recipient=user).select_related(
        "chat__contact", "chat__agent", "comment__author", "actor"
    )
    return list(notifications.order_by("-created_at", "-id")[:limit])


def unread_notification_count(user: User) -> int:
    """How many of a user's notifications are unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
