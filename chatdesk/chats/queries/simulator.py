"""Reads for the customer simulator: the sandbox channels and what is on a contact's phone."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from chatdesk.chats.models import DeliveryStatus, Direction, Message
from chatdesk.providers.models import Channel, ChannelKind

PHONE_HISTORY = 200

# What has reached the contact's phone: their own messages, and the desk's once the provider
# took them (a queued message has not left the desk; a failed one never arrived).
_ON_THE_PHONE = Q(direction=Direction.IN) | Q(
    direction=Direction.OUT,
    status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ],
)


def sandbox_channels() -> QuerySet[Channel]:
    """The active sandbox channels, the first one made first: where the simulator writes."""
    return Channel.objects.filter(kind=ChannelKind.SANDBOX, is_active=True).order_by("id")


@dataclass(frozen=True)
class PhoneMessageState:
    """Just enough of a message on the phone to tell whether the screen changed."""

    id: int
    direction: str
    status: str | None
    provider_message_id: str | None


def _on_the_phone(channel: Channel, phone: str) -> QuerySet[Message]:
    return Message.objects.filter(_ON_THE_PHONE, channel=channel, chat__contact__phone=phone)


def phone_message_states(
    channel: Channel, phone: str, *, limit: int = PHONE_HISTORY
) -> list[PhoneMessageState]:
    """The last ``limit`` messages on a contact's phone for one channel, across all their
    chats, oldest first; ids and statuses only, cheap enough to poll every second."""
    rows = _on_the_phone(channel, phone).order_by("-created_at", "-id")[:limit]
    states = [
        PhoneMessageState(*row)
        for row in rows.values_list("id", "direction", "status", "provider_message_id")
    ]
    states.reverse()
    return states


def phone_messages(channel: Channel, phone: str, *, limit: int = PHONE_HISTORY) -> list[Message]:
    """The last ``limit`` messages on a contact's phone for one channel, across all their
    chats, oldest first: what the customer simulator shows."""
    rows = list(_on_the_phone(channel, phone).order_by("-created_at", "-id")[:limit])
    rows.reverse()
    return rows
