"""What providers deliver to us: the contact's messages and our messages' delivery statuses.

Every inbound message is stored once (the provider's id is unique per channel in the
database) and joins the contact's open chat or open ticket on that channel, or starts a
new chat, which the inbound flow (chatdesk.flows.inbound) then has routing place, in the
same transaction. Statuses only ever move a message forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    ClosedBy,
    Contact,
    ContactOptOut,
    ContentType,
    DeliveryStatus,
    Direction,
    Message,
)
from chatdesk.chats.phones import to_e164
from chatdesk.chats.queries.reengagement import Reengagement, reengagement_answered
from chatdesk.chats.services import lifecycle, timeline
from chatdesk.chats.services.contacts import (
    Identity,
    change_identifier,
    contact_for,
    link_identity,
    rename_contact,
)
from chatdesk.core import clock
from chatdesk.providers.base import (
    InboundMessage,
    StatusUpdate,
    message_id_from_reference,
)
from chatdesk.providers.delivery import reason_for
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEventType
from chatdesk.routing import placement


@dataclass(frozen=True)
class Stored:
    """An inbound message stored, and what the flow does next: place a chat it started
    (``starts_chat``; ``reengaged_by_id`` when it answers a re-engagement, whose sender
    routing tries first), give the room of an agent whose chat the contact ended
    (``freed_agent_id``)."""

    message: Message
    chat: Chat
    starts_chat: bool = False
    freed_agent_id: int | None = None
    reengaged_by_id: int | None = None


def identity_of(inbound: InboundMessage) -> Identity:
    """Who sent a message: their number in E.164 (BadInput when it is none), the
    provider's user id, their username."""
    return Identity(
        phone=to_e164(inbound.from_phone) if inbound.from_phone else None,
        provider_user_id=inbound.from_user_id[:160] or None,
        username=inbound.username,
    )


def _open_conversation(channel: Channel, identity: Identity) -> Chat | None:
    """The contact's open live chat on this channel, else their open ticket, locked, with
    the contact: one statement for the common case of a contact writing again. (Should
    the number and the id name two contacts, the one the id names.)"""
    rows = list(
        Chat.objects.select_for_update(of=("self",))
        .select_related("contact")
        .filter(identity.matching("contact__"), channel=channel, status=ChatStatus.OPEN)
        .order_by("kind", "id")  # "chat" sorts before "ticket"
    )
    by_id = [c for c in rows if c.contact.provider_user_id == identity.provider_user_id]
    found = by_id or rows
    return found[0] if found else None


def _tells_more(contact: Contact, identity: Identity) -> bool:
    """The message names the contact by an identifier the desk did not have for them."""
    return any(
        (value := getattr(identity, field)) and getattr(contact, field) != value
        for field in ("phone", "provider_user_id", "visitor_id")
    )


def store_message(*, channel: Channel, inbound: InboundMessage) -> Stored | None:
    """Store one inbound message in the caller's transaction: it joins the contact's open
    chat or ticket on the channel, or starts a chat, and its keywords (marked by the
    adapter) apply. Nothing inside takes a savepoint: a conflict with a concurrent request
    (the same new contact or chat) fails the caller's whole attempt.

    A notice from the provider (``is_system``: a changed number or user id) applies its
    change to the contact and joins the contact's conversation on the channel without
    moving its window; None when the contact has no chat there to show it in."""
    now = clock.now()
    identity = identity_of(inbound)
    if inbound.is_system:
        return _store_system_message(channel, inbound, identity, now=now)
    if inbound.edits or inbound.revokes:
        return _amend(channel, inbound, identity, now=now)
    if inbound.from_business_phone:
        return _join_without_moving_the_window(
            channel, inbound, identity, now=now, direction=Direction.OUT
        )
    chat = _open_conversation(channel, identity)
    if chat is not None and _tells_more(chat.contact, identity):
        # A number or an id this contact lacks: link it, or fold in the contact it names.
        contact = contact_for(identity=identity, name=inbound.contact_name, in_savepoint=False)
        if contact.pk != chat.contact_id:
            chat = _open_conversation(channel, Identity(provider_user_id=contact.provider_user_id))
    if chat is not None:
        link_identity(chat.contact, Identity(username=identity.username))
        rename_contact(chat.contact, inbound.contact_name)
        contact_id = chat.contact_id
    else:
        contact_id = contact_for(
            identity=identity, name=inbound.contact_name, in_savepoint=False
        ).pk
    if (
        chat is not None
        and chat.kind == ChatKind.TICKET
        and placement.starts_live_instead_of_ticket(chat)
    ):
        # A live chat can be served now: it replaces the contact's unassigned ticket.
        lifecycle.close(chat, closed_by=ClosedBy.SYSTEM, user=None)
        chat = None
    is_new = chat is None
    answered: Reengagement | None = None
    if chat is None:
        answered = reengagement_answered(contact_id=contact_id, channel_id=channel.pk, now=now)
        chat = _start_chat(channel, contact_id, now=now, inbound=inbound, answers=answered)
    else:
        # The window counts from the provider's stamp; an older message arriving late
        # never moves it back. The row is locked, so the newer stamp is known here.
        if chat.last_inbound_at is None or chat.last_inbound_at < inbound.timestamp:
            chat.last_inbound_at = inbound.timestamp
        chat.last_message_at = now
        Chat.objects.filter(pk=chat.pk).update(
            last_inbound_at=chat.last_inbound_at, last_message_at=now
        )
    message = Message.objects.create(
        chat=chat,
        channel=channel,
        direction=Direction.IN,
        content_type=inbound.content_type,
        text=inbound.text,
        media=_with_reply_link(channel, inbound.media),
        provider_message_id=inbound.provider_message_id,
        provider_timestamp=inbound.timestamp,
        created_at=now,
    )
    live_events.message_event(LiveEventType.MESSAGE_CREATED, message)
    _apply_opt_keywords(channel, chat, inbound)
    if inbound.ends_chat and chat.kind == ChatKind.CHAT:
        closed = lifecycle.close_by_contact(chat=chat)
        return Stored(message, closed.chat, freed_agent_id=closed.freed_agent_id)
    return Stored(
        message,
        chat,
        starts_chat=is_new,
        reengaged_by_id=answered.by_id if answered is not None else None,
    )


def _store_system_message(
    channel: Channel, inbound: InboundMessage, identity: Identity, *, now: datetime
) -> Stored | None:
    change = inbound.identity_change
    changed = None
    if change is not None:
        changed = change_identifier(field=change.field, old=change.old, new=change.new)
    return _join_without_moving_the_window(
        channel, inbound, identity, now=now, contact=changed, content_type=ContentType.SYSTEM
    )


def _join_without_moving_the_window(
    channel: Channel,
    inbound: InboundMessage,
    identity: Identity,
    *,
    now: datetime,
    contact: Contact | None = None,
    direction: str = Direction.IN,
    content_type: str = "",
) -> Stored | None:
    """A message that is not the customer writing (a provider's notice, what the business
    sent from its phone, an edit of a message the desk never had): into the contact's
    open conversation on the channel, else their latest chat there, neither started nor
    reopened, the window unmoved; None when the contact has no chat there."""
    contact = contact or Contact.objects.filter(identity.matching()).order_by("id").first()
    if contact is None:
        return None
    chats = Chat.objects.select_for_update(of=("self",)).filter(contact=contact, channel=channel)
    chat = chats.filter(status=ChatStatus.OPEN).order_by("kind", "id").first()
    if chat is None:
        chat = chats.order_by("-created_at", "-id").first()
    if chat is None:
        return None
    media = dict(inbound.media)
    if inbound.from_business_phone:
        media["from_business_phone"] = True
    message = Message.objects.create(
        chat=chat,
        channel=channel,
        direction=direction,
        content_type=content_type or inbound.content_type,
        text=inbound.text,
        media=_with_reply_link(channel, media),
        provider_message_id=inbound.provider_message_id,
        provider_timestamp=inbound.timestamp,
        status=DeliveryStatus.SENT if direction == Direction.OUT else None,
        created_at=now,
    )
    live_events.message_event(LiveEventType.MESSAGE_CREATED, message)
    return Stored(message, chat)


def _amend(
    channel: Channel, inbound: InboundMessage, identity: Identity, *, now: datetime
) -> Stored | None:
    """The customer edited or took back a message: the original changes (an edit keeps the
    first text beside the new one; a revoke keeps the text, shown to supervisors only), the
    window does not move. An original the desk never had is shown as a message of its own."""
    original = (
        Message.objects.select_for_update(of=("self",))
        .select_related("chat")
        .filter(
            channel=channel,
            direction=Direction.IN,
            provider_message_id=inbound.edits or inbound.revokes,
        )
        .first()
    )
    if original is None:
        return _join_without_moving_the_window(channel, inbound, identity, now=now)
    media = dict(original.media)
    at = inbound.timestamp.isoformat()
    if inbound.revokes:
        media["revoked_at"] = at
    else:
        media.setdefault("original_text", original.text)
        media["edited_at"] = at
        original.text = inbound.text
    original.media = media
    original.save(update_fields=["text", "media"])
    # "The message as it now is" (the same type as a status change, which clients apply).
    live_events.message_event(LiveEventType.MESSAGE_STATUS, original)
    return Stored(original, original.chat)


def _with_reply_link(channel: Channel, media: dict[str, object]) -> dict[str, object]:
    """The quoted message's id of ours, when the customer replied to one the desk has."""
    quoted = media.get("reply_to")
    if isinstance(quoted, str):
        found = (
            Message.objects.filter(channel=channel, provider_message_id=quoted)
            .values_list("pk", flat=True)
            .first()
        )
        if found is not None:
            return {**media, "reply_to_message_id": found}
    return media


def _start_chat(
    channel: Channel,
    contact_id: int,
    *,
    now: datetime,
    inbound: InboundMessage,
    answers: Reengagement | None,
) -> Chat:
    """A new chat, already carrying its first message's times (and the chat it continues,
    when it ``answers`` a re-engagement). A concurrent request that opened one a moment ago
    makes the insert fail (one open chat per contact and channel), and the message is
    stored again into that chat."""
    chat = Chat.objects.create(
        kind=ChatKind.CHAT,
        channel=channel,
        contact_id=contact_id,
        department_id=channel.department_id,
        created_at=now,
        last_inbound_at=inbound.timestamp,
        last_message_at=now,
        continues_id=answers.chat_id if answers is not None else None,
    )
    timeline.record_created(chat=chat, by=None, channel=channel.kind)
    if answers is not None:
        timeline.record_reengagement_reply(
            chat=chat,
            continues_chat_id=answers.chat_id,
            reengaged_by_id=answers.by_id,
            message_id=answers.message_id,
        )
    live_events.chat_event(LiveEventType.CHAT_CREATED, chat)
    return chat


def _apply_opt_keywords(channel: Channel, chat: Chat, inbound: InboundMessage) -> None:
    """Opt-out and opt-in words (the SMS adapter marks them)."""
    if inbound.opt_out_word:
        _, created = ContactOptOut.objects.get_or_create(
            contact_id=chat.contact_id,
            channel=channel,
            defaults={"keyword": inbound.opt_out_word, "created_at": clock.now()},
        )
        if created:
            timeline.record_opted_out(chat=chat, by=None, keyword=inbound.opt_out_word)
    elif inbound.opt_in_word:
        deleted, _ = ContactOptOut.objects.filter(
            contact_id=chat.contact_id, channel=channel
        ).delete()
        if deleted:
            timeline.record_opted_in(chat=chat, by=None, keyword=inbound.opt_in_word)


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
        message = _apply_status(channel, update)
        if message is None:
            return False
        live_events.message_event(LiveEventType.MESSAGE_STATUS, message)
        live_events.number_before_commit()
    return True


def _apply_status(channel: Channel, update: StatusUpdate) -> Message | None:
    """The message moved, as it now is, if one was."""
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
        return ours.select_related("template").first()
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
    return outbound.select_related("template").filter(pk=our_id).first() if moved else None
