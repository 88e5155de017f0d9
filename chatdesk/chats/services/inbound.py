"""What providers deliver to us: the contact's messages and our messages' delivery statuses.

Every inbound message is stored once (the provider's id is unique per channel in the
database) and joins the contact's open chat or open ticket on that channel, or starts a
new chat, which routing then places. Statuses only ever move a message forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q

from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    ClosedBy,
    ContactOptOut,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
)
from chatdesk.chats.services import lifecycle, timeline
from chatdesk.chats.services.contacts import upsert_contact
from chatdesk.chats.window import CLOSED_WINDOW_REASON
from chatdesk.core import clock
from chatdesk.providers.adapters import sms
from chatdesk.providers.base import (
    InboundMessage,
    StatusUpdate,
    WebhookBatch,
    message_id_from_reference,
)
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.realtime import events as live_events
from chatdesk.realtime.models import EventType
from chatdesk.routing import assignment


@dataclass
class ReceiveResult:
    stored: list[int] = field(default_factory=list)  # message ids
    duplicates: int = 0
    statuses_applied: int = 0
    statuses_ignored: int = 0


class _Duplicate(Exception):
    """The provider's id is already stored: undo everything this message started."""


def receive_batch(*, channel: Channel, batch: WebhookBatch) -> ReceiveResult:
    """Store a parsed webhook: each message in its own transaction, so a retried webhook
    whose first half was stored stores only the rest."""
    result = ReceiveResult()
    for inbound in batch.messages:
        message = receive_message(channel=channel, inbound=inbound)
        if message is None:
            result.duplicates += 1
        else:
            result.stored.append(message.pk)
    for update in batch.statuses:
        if apply_status(channel=channel, update=update):
            result.statuses_applied += 1
        else:
            result.statuses_ignored += 1
    return result


def _open_conversation(channel: Channel, contact_id: int) -> Chat | None:
    """The contact's open live chat on this channel, else their open ticket."""
    rows = list(
        Chat.objects.select_for_update()
        .filter(channel=channel, contact_id=contact_id, status=ChatStatus.OPEN)
        .order_by("kind")  # "chat" sorts before "ticket"
    )
    return rows[0] if rows else None


def receive_message(*, channel: Channel, inbound: InboundMessage) -> Message | None:
    """Store one inbound message; None when it was already stored (a retried webhook)."""
    if Message.objects.filter(
        channel=channel, provider_message_id=inbound.provider_message_id
    ).exists():
        return None
    try:
        with transaction.atomic():
            return _store(channel, inbound)
    except _Duplicate:
        return None


def _store(channel: Channel, inbound: InboundMessage) -> Message:
    now = clock.now()
    contact = upsert_contact(phone=inbound.from_phone, name=inbound.contact_name)
    chat = _open_conversation(channel, contact.pk)
    if (
        chat is not None
        and chat.kind == ChatKind.TICKET
        and assignment.should_start_live_instead_of_ticket(chat)
    ):
        # A live chat can be served now: it replaces the contact's unassigned ticket.
        lifecycle.close(chat, closed_by=ClosedBy.SYSTEM, user=None)
        chat = None
    is_new = chat is None
    if chat is None:
        chat = _start_chat(channel, contact.pk)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                chat=chat,
                channel=channel,
                direction=Direction.IN,
                content_type=inbound.content_type,
                text=inbound.text,
                media=inbound.media,
                provider_message_id=inbound.provider_message_id,
                provider_timestamp=inbound.timestamp,
                created_at=now,
            )
    except IntegrityError as exc:
        raise _Duplicate from exc
    # The window counts from the provider's stamp; an older message arriving late never
    # moves it back.
    Chat.objects.filter(pk=chat.pk).filter(
        Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=inbound.timestamp)
    ).update(last_inbound_at=inbound.timestamp)
    Chat.objects.filter(pk=chat.pk).update(last_message_at=now)
    chat.refresh_from_db()
    live_events.message_event(EventType.MESSAGE_CREATED, message)
    _apply_keywords(channel, chat, inbound)
    if is_new and chat.status == ChatStatus.OPEN:
        assignment.route_new_chat(chat=chat)
    return message


def _start_chat(channel: Channel, contact_id: int) -> Chat:
    try:
        with transaction.atomic():
            chat = Chat.objects.create(
                kind=ChatKind.CHAT,
                channel=channel,
                contact_id=contact_id,
                department=channel.department,
                created_at=clock.now(),
            )
    except IntegrityError:
        # Another request opened it a moment ago (PostgreSQL waited for it to commit).
        existing = _open_conversation(channel, contact_id)
        if existing is None:
            raise
        return existing
    timeline.record(chat, EventKind.CREATED, channel=channel.kind)
    live_events.chat_event(EventType.CHAT_CREATED, chat)
    return chat


def _apply_keywords(channel: Channel, chat: Chat, inbound: InboundMessage) -> None:
    if inbound.content_type != "text":
        return
    word = sms.keyword(inbound.text)
    if channel.kind == ChannelKind.SMS and word in sms.OPT_OUT_WORDS:
        _, created = ContactOptOut.objects.get_or_create(
            contact_id=chat.contact_id,
            channel=channel,
            defaults={"keyword": word, "created_at": clock.now()},
        )
        if created:
            timeline.record(chat, EventKind.OPTED_OUT, keyword=word)
    elif channel.kind == ChannelKind.SMS and word in sms.OPT_IN_WORDS:
        deleted, _ = ContactOptOut.objects.filter(
            contact_id=chat.contact_id, channel=channel
        ).delete()
        if deleted:
            timeline.record(chat, EventKind.OPTED_IN, keyword=word)
    end = (channel.end_keyword or "").strip().lower()
    if end and inbound.text.strip().lower() == end and chat.kind == ChatKind.CHAT:
        lifecycle.close_by_contact(chat=chat)


# Which earlier statuses each status may replace: a status never moves backward, and
# "failed" only replaces a message not yet known to have arrived.
_REPLACES: dict[str, tuple[str, ...]] = {
    DeliveryStatus.SENT: (DeliveryStatus.QUEUED,),
    DeliveryStatus.DELIVERED: (DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.FAILED),
    DeliveryStatus.READ: (
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
    ),
    DeliveryStatus.FAILED: (DeliveryStatus.QUEUED, DeliveryStatus.SENT),
}
_STAMP: dict[str, str] = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}


def apply_status(*, channel: Channel, update: StatusUpdate) -> bool:
    """Move an outbound message's delivery status forward; False when nothing changed
    (unknown message, a repeat, or an older status arriving late)."""
    with transaction.atomic():
        message_id = _apply_status(channel, update)
        if message_id is None:
            return False
        message = Message.objects.select_related("template").get(pk=message_id)
        live_events.message_event(EventType.MESSAGE_STATUS, message)
    return True


def _apply_status(channel: Channel, update: StatusUpdate) -> int | None:
    """The id of the message moved, if one was."""
    replaces = _REPLACES.get(update.status)
    if replaces is None:
        return None
    stamp = update.timestamp or clock.now()
    changes: dict[str, object] = {"status": update.status, _STAMP[update.status]: stamp}
    if update.status == DeliveryStatus.FAILED:
        changes["error_code"] = update.error_code[:32]
        changes["error_reason"] = reason_for(update.error_code, update.error_reason)[:500]
    else:
        changes["error_code"] = ""
        changes["error_reason"] = ""
    outbound = Message.objects.filter(channel=channel, direction=Direction.OUT)
    ours = outbound.filter(provider_message_id=update.provider_message_id)
    moved = ours.filter(status__in=replaces).update(**changes)
    if moved:
        return ours.values_list("pk", flat=True).first()
    our_id = message_id_from_reference(update.reference)
    if our_id is None:
        return None
    # The send's answer was lost (the worker stopped mid-call): the provider's status,
    # which carries our reference, tells us the message did go out, and under which id.
    moved = outbound.filter(
        pk=our_id, provider_message_id__isnull=True, status__in=replaces
    ).update(
        provider_message_id=update.provider_message_id,
        in_flight_since=None,
        **changes,
    )
    return our_id if moved else None


def reason_for(code: str, reason: str) -> str:
    """Our sentence for the provider errors a person must act on."""
    if code == "131047":
        return CLOSED_WINDOW_REASON
    if code == sms.OPTED_OUT_ERROR:
        return OPTED_OUT_REASON
    return reason or "The provider could not deliver the message."


OPTED_OUT_REASON = (
    "The contact has opted out of messages on this number (they sent STOP); they must "
    "send START to opt back in."
)
