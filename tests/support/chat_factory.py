"""Chats, messages and timeline events built straight with the ORM, in any state the
model's constraints allow, for tests that read them back."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    ClosedBy,
    Contact,
    ContentType,
    DeliveryStatus,
    Direction,
    Message,
    TicketState,
)
from chatdesk.core import clock
from chatdesk.providers.models import Channel, Template
from chatdesk.routing.models import Department

_phones = itertools.count(1)


def contact(phone: str | None = None, name: str = "") -> Contact:
    """A new contact; without a phone, the next unused one."""
    if phone is None:
        phone = f"+2783{next(_phones):07d}"
    return Contact.objects.create(phone=phone, name=name or f"Contact {phone[-4:]}")


def chat(
    channel: Channel,
    *,
    state: str = "open",
    of: Contact | None = None,
    agent: User | None = None,
    department: Department | None = None,
    created_at: datetime | None = None,
    closed_at: datetime | None = None,
    last_inbound_at: datetime | None = None,
    **fields: Any,
) -> Chat:
    """A chat or ticket on ``channel`` with a new contact unless ``of`` is given.

    ``state`` is ``open`` (a live chat; with no agent it is queued), ``closed`` (a live
    chat that ended), or a ticket: ``unassigned``, ``assigned`` or ``ticket_closed``. The
    department defaults to the channel's.
    """
    now = clock.now()
    created_at = created_at or now
    values: dict[str, Any] = {"kind": ChatKind.CHAT, "status": ChatStatus.OPEN}
    if state == "open":
        if agent is None:
            values["queued_at"] = created_at
        else:
            values["assigned_at"] = created_at
    elif state == "closed":
        values.update(
            status=ChatStatus.CLOSED, closed_at=closed_at or now, closed_by=ClosedBy.AGENT
        )
    elif state in (TicketState.UNASSIGNED, TicketState.ASSIGNED):
        values.update(kind=ChatKind.TICKET, ticket_state=state)
    elif state == "ticket_closed":
        values.update(
            kind=ChatKind.TICKET,
            ticket_state=TicketState.CLOSED,
            status=ChatStatus.CLOSED,
            closed_at=closed_at or now,
            closed_by=ClosedBy.SUPERVISOR,
        )
    else:
        raise ValueError(f"Unknown state {state!r}.")
    values.update(fields)
    return Chat.objects.create(
        channel=channel,
        contact=of or contact(),
        agent=agent,
        department=department or channel.department,
        created_at=created_at,
        last_inbound_at=last_inbound_at,
        **values,
    )


def message(
    chat: Chat,
    *,
    direction: str = Direction.IN,
    text: str = "Hello",
    created_at: datetime | None = None,
    author: User | None = None,
    template: Template | None = None,
    variables: list[str] | None = None,
    **fields: Any,
) -> Message:
    """An inbound message, or an outbound one (``queued`` unless a status is given)."""
    if direction == Direction.OUT:
        fields.setdefault("status", DeliveryStatus.QUEUED)
    if template is not None:
        fields.setdefault("content_type", ContentType.TEMPLATE)
    return Message.objects.create(
        chat=chat,
        channel_id=chat.channel_id,
        direction=direction,
        text=text,
        author=author,
        template=template,
        template_variables=variables or [],
        created_at=created_at or clock.now(),
        **fields,
    )


def event(
    chat: Chat,
    kind: str,
    *,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> ChatEvent:
    return ChatEvent.objects.create(
        chat=chat, kind=kind, actor=actor, data=data or {}, created_at=created_at or clock.now()
    )
