"""Reading: each user marks their own notifications read, one at a time or all at once;
the agent holding a chat marks it read (supervisors watching never do)."""

from __future__ import annotations

from django.db import transaction

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, Notification
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


def mark_chat_read(*, chat_id: int, by: User) -> bool:
    """The chat's agent has read it up to now; True when that moved the marker. Anyone
    else who may see the chat (a supervisor watching) changes nothing."""
    chat = access.chat_for(by, chat_id)
    if chat.agent_id != by.pk:
        return False
    return bool(Chat.objects.filter(pk=chat.pk, agent=by).update(agent_read_at=clock.now()))
