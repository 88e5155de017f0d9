"""WhatsApp's contact window: free text may be sent for 24 hours after the contact's last
inbound message (the provider's timestamp); outside it, only an approved template. A
sandbox channel set to keep the window (``contact_window: whatsapp``) follows it too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max

from chatdesk.chats.models import Chat
from chatdesk.core import clock
from chatdesk.providers.queries import keeps_whatsapp_window

WINDOW = timedelta(hours=24)

CLOSED_WINDOW_REASON = (
    "The WhatsApp contact window is closed: the contact's last message was more than 24 "
    "hours ago, so only an approved template can be sent."
)


@dataclass(frozen=True)
class ContactWindow:
    applies: bool  # only WhatsApp has a window
    is_open: bool
    expires_at: datetime | None


def last_inbound_at(chat: Chat) -> datetime | None:
    """The contact's last message on this channel, in any of their chats."""
    if chat.last_inbound_at is not None and chat.status == "open":
        # The open chat holds the newest inbound message: later ones would join it.
        return chat.last_inbound_at
    latest = Chat.objects.filter(contact_id=chat.contact_id, channel_id=chat.channel_id).aggregate(
        latest=Max("last_inbound_at")
    )["latest"]
    return latest


_LOOK_IT_UP: Any = object()


def contact_window(
    chat: Chat, *, at: datetime | None = None, last_inbound: datetime | None = _LOOK_IT_UP
) -> ContactWindow:
    """The window of the chat's contact on its channel. Lists pass ``last_inbound`` (read
    for the whole page at once); otherwise it is looked up."""
    if not keeps_whatsapp_window(chat.channel):
        return ContactWindow(applies=False, is_open=True, expires_at=None)
    latest = last_inbound_at(chat) if last_inbound is _LOOK_IT_UP else last_inbound
    if latest is None:
        return ContactWindow(applies=True, is_open=False, expires_at=None)
    expires = latest + WINDOW
    return ContactWindow(applies=True, is_open=(at or clock.now()) < expires, expires_at=expires)
