"""Customers writing in, chats made directly in every state, replies queued to send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    ClosedBy,
    Contact,
    Message,
    TicketState,
)
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.inbound import receive_message
from chatdesk.flows.outbound import send_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel

ChatMaker = Callable[..., Chat]

_counter = iter(range(1, 1_000_000))


def phone(n: int) -> str:
    return f"+2782{n:07d}"


def write_in(channel: Channel, phone: str, text: str = "Hello", name: str = "") -> Message:
    """A customer's text through the inbound service, as a webhook would hand it over."""
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"in-{next(_counter)}",
            from_phone=phone,
            timestamp=clock.now(),
            content_type="text",
            text=text,
            contact_name=name,
        ),
    )
    assert message is not None
    return message


def make_chat(
    channel: Channel, phone: str, *, name: str = "", agent: User | None = None, state: str = "open"
) -> Chat:
    """A chat or ticket on ``channel`` in ``state``: "open", "closed", "unassigned",
    "assigned" or "ticket_closed"."""
    contact, _ = Contact.objects.get_or_create(phone=phone, defaults={"name": name})
    now = clock.now()
    fields: dict[str, Any] = {"kind": ChatKind.CHAT, "status": ChatStatus.OPEN}
    if state == "closed":
        fields.update(status=ChatStatus.CLOSED, closed_at=now, closed_by=ClosedBy.AGENT)
    elif state in ("unassigned", "assigned"):
        fields.update(kind=ChatKind.TICKET, ticket_state=state)
    elif state == "ticket_closed":
        fields.update(
            kind=ChatKind.TICKET,
            ticket_state=TicketState.CLOSED,
            status=ChatStatus.CLOSED,
            closed_at=now,
            closed_by=ClosedBy.SUPERVISOR,
        )
    return Chat.objects.create(
        channel=channel, contact=contact, agent=agent, created_at=now, **fields
    )


def queued(channel: Channel, contact: Contact, agent: User, text: str = "Hello") -> Message:
    """An agent's reply, queued for delivery, in a new chat of ``contact``'s."""
    chat = Chat.objects.create(
        channel=channel,
        contact=contact,
        agent=agent,
        created_at=clock.now(),
        last_inbound_at=clock.now(),
    )
    return send_message(chat_id=chat.pk, reply=Reply(text=text), by=agent)
