"""The database itself refuses invalid states, whatever the code above it does."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    Contact,
    ContactOptOut,
    Direction,
    Message,
    TicketState,
)
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind, Template
from chatdesk.routing.models import BusinessHours, DatedException, WeeklyInterval


def refused(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def chat(**fields) -> Chat:
    return Chat.objects.create(created_at=clock.now(), **fields)


def message(chat_row: Chat, **fields) -> Message:
    defaults = {"direction": Direction.IN, "text": "hi", "created_at": clock.now()}
    defaults.update(fields)
    return Message.objects.create(chat=chat_row, channel=chat_row.channel, **defaults)


@pytest.fixture
def live(carol, sandbox) -> Chat:
    return chat(channel=sandbox, contact=carol)


def test_provider_message_id_is_unique_per_channel(live, sandbox, carol):
    message(live, provider_message_id="wamid.1")
    refused(lambda: message(live, provider_message_id="wamid.1"))
    other = Channel.objects.create(kind=ChannelKind.SANDBOX, name="Second")
    other_chat = chat(channel=other, contact=carol)
    message(other_chat, provider_message_id="wamid.1")  # another channel may reuse it
    message(live)
    message(live)  # no provider id: any number
    assert Message.objects.filter(provider_message_id="wamid.1").count() == 2


def test_one_open_ticket_per_contact_and_channel(carol, sandbox, alice):
    ticket = dict(kind=ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED)
    chat(channel=sandbox, contact=carol, **ticket)
    refused(lambda: chat(channel=sandbox, contact=carol, **ticket))
    refused(
        lambda: chat(
            channel=sandbox,
            contact=carol,
            kind=ChatKind.TICKET,
            ticket_state=TicketState.ASSIGNED,
            agent=alice,
        )
    )
    # A closed ticket does not count.
    chat(
        channel=sandbox,
        contact=carol,
        kind=ChatKind.TICKET,
        ticket_state=TicketState.CLOSED,
        status=ChatStatus.CLOSED,
        closed_at=clock.now(),
    )


def test_one_open_live_chat_per_contact_and_channel(live, carol, sandbox):
    refused(lambda: chat(channel=sandbox, contact=carol))
    chat(channel=sandbox, contact=carol, status=ChatStatus.CLOSED, closed_at=clock.now())


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "email"},
        {"status": "pending"},
        {"kind": ChatKind.CHAT, "ticket_state": TicketState.UNASSIGNED},
        {"kind": ChatKind.TICKET},  # a ticket needs a state
        {"kind": ChatKind.TICKET, "ticket_state": "archived"},
        {"kind": ChatKind.TICKET, "ticket_state": TicketState.ASSIGNED},  # without an agent
        {"kind": ChatKind.TICKET, "ticket_state": TicketState.CLOSED},  # but status open
        {"status": ChatStatus.CLOSED},  # closed without closed_at
        {"closed_by": "robot", "status": ChatStatus.CLOSED},
    ],
)
def test_chat_states_must_be_valid(carol, sandbox, fields):
    if fields.get("status") == ChatStatus.CLOSED and "closed_by" in fields:
        fields = {**fields, "closed_at": clock.now()}
    refused(lambda: chat(channel=sandbox, contact=carol, **fields))


def test_unassigned_ticket_cannot_have_an_agent(carol, sandbox, alice):
    refused(
        lambda: chat(
            channel=sandbox,
            contact=carol,
            kind=ChatKind.TICKET,
            ticket_state=TicketState.UNASSIGNED,
            agent=alice,
        )
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"direction": "up"},
        {"direction": Direction.IN, "status": "sent"},
        {"direction": Direction.OUT, "status": None},
        {"direction": Direction.OUT, "status": "lost"},
        {"content_type": "hologram"},
    ],
)
def test_message_fields_must_be_valid(live, fields):
    refused(lambda: message(live, **fields))


def test_outbound_message_with_a_status_is_fine(live):
    row = message(live, direction=Direction.OUT, status="queued")
    assert row.status == "queued"


def test_user_role_presence_and_capacity(db):
    refused(lambda: User.objects.create(username="x1", role="owner"))
    refused(lambda: User.objects.create(username="x2", presence="busy"))
    refused(lambda: User.objects.create(username="x3", capacity=0))
    refused(lambda: User.objects.create(username="x4", capacity=101))
    assert User.objects.create(username="x5", capacity=100).capacity == 100


def test_channel_and_template_values(sandbox):
    refused(lambda: Channel.objects.create(kind="fax", name="Fax"))
    Template.objects.create(channel=sandbox, name="hello", language="en_US", body="Hi {{1}}")
    refused(
        lambda: Template.objects.create(
            channel=sandbox, name="hello", language="en_US", body="Hi again"
        )
    )
    Template.objects.create(channel=sandbox, name="hello", language="pt_BR", body="Olá {{1}}")
    refused(lambda: Template.objects.create(channel=sandbox, name="x", body="x", status="banned"))
    refused(lambda: Template.objects.create(channel=sandbox, name="y", body="y", category="spam"))


def test_template_variable_count_reads_placeholders(sandbox):
    template = Template(channel=sandbox, name="t", body="Hi {{1}}, order {{ 2 }} ships {{2}}")
    assert template.variable_count == 2
    assert Template(channel=sandbox, name="u", body="No variables").variable_count == 0


def test_contact_phone_must_be_e164_shaped(db):
    refused(lambda: Contact.objects.create(phone="0821234567"))
    Contact.objects.create(phone="+27821234568")
    refused(lambda: Contact.objects.create(phone="+27821234568"))


def test_opt_out_once_per_contact_and_channel(carol, sandbox):
    ContactOptOut.objects.create(contact=carol, channel=sandbox, created_at=clock.now())
    refused(
        lambda: ContactOptOut.objects.create(contact=carol, channel=sandbox, created_at=clock.now())
    )


def test_business_hours_rows(sales):
    BusinessHours.objects.create(timezone="UTC")
    refused(lambda: BusinessHours.objects.create(timezone="Europe/London"))  # a second desk row
    own = BusinessHours.objects.create(department=sales, timezone="Africa/Johannesburg")
    refused(
        lambda: WeeklyInterval.objects.create(
            business_hours=own, day=7, start=time(9), end=time(17)
        )
    )
    refused(
        lambda: WeeklyInterval.objects.create(business_hours=own, day=1, start=time(9), end=time(9))
    )
    # An end before the start runs past midnight: allowed.
    WeeklyInterval.objects.create(business_hours=own, day=4, start=time(22), end=time(2))
    today = clock.now().date()
    refused(lambda: DatedException.objects.create(business_hours=own, date=today, closed=False))
    refused(
        lambda: DatedException.objects.create(
            business_hours=own, date=today, closed=True, start=time(9), end=time(12)
        )
    )
    DatedException.objects.create(business_hours=own, date=today, closed=True)
    DatedException.objects.create(
        business_hours=own, date=today + timedelta(days=1), start=time(9), end=time(12)
    )


def test_chat_event_kind_is_checked(live):
    refused(lambda: ChatEvent.objects.create(chat=live, kind="exploded", created_at=clock.now()))
    ChatEvent.objects.create(chat=live, kind="created", created_at=clock.now())
