"""Fixtures of the page tests: signed-in clients and chats in every state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, ClosedBy, Contact, TicketState
from chatdesk.core import clock
from chatdesk.providers.models import Channel

ChatMaker = Callable[..., Chat]


@pytest.fixture
def client_as(db: Any) -> Callable[[User], Client]:
    """``client_as(alice)``: a test client with alice's session."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_chat(sandbox: Channel) -> ChatMaker:
    """``make_chat(phone, agent=alice, state="open"|"closed"|"unassigned"|"assigned"|
    "ticket_closed")``: a chat or ticket in that state on the sandbox channel."""

    def make(phone: str, *, name: str = "", agent: User | None = None, state: str = "open") -> Chat:
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
            channel=sandbox, contact=contact, agent=agent, created_at=now, **fields
        )

    return make
