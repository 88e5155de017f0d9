"""What one inbound webhook costs the database, pinned: the SQL statements and the
transactions of a message that starts a chat and of one that joins a conversation, each
as an agent gets it and as a ticket (nobody online, which is what the ingest benchmark
offers). The desk around it holds several agents, chats, schedules and earlier events, so
a read per agent, per chat or per event creeping into the path shows here as a higher
count. A change that makes the path cheaper lowers the numbers here with it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chatdesk.accounts.models import Connection, User
from chatdesk.chats.models import Chat, ChatEvent, ChatKind, Contact, Message, TicketState
from chatdesk.chats.services import lifecycle
from chatdesk.core import clock
from chatdesk.providers.models import Channel
from chatdesk.realtime.models import LiveEvent
from chatdesk.routing.models import Department
from chatdesk.routing.services import DatedHours, Interval, set_business_hours
from tests.support.chats import phone, write_in
from tests.support.webhooks import post_whatsapp, wa_payload, wa_text

pytestmark = pytest.mark.django_db(transaction=True)

# PostgreSQL numbers live events under an advisory lock, one statement more than SQLite,
# whose writers already take turns.
LOCK = 1 if connection.vendor == "postgresql" else 0

# Statements per webhook (SQLite; PostgreSQL adds LOCK). A message that starts a chat
# asks once whether it answers a re-engagement (the chat it would continue).
NEW_CHAT_TO_AN_AGENT = 25
MESSAGE_IN_A_LIVE_CHAT = 9
NEW_CHAT_AS_A_TICKET = 24
MESSAGE_IN_A_TICKET = 13


@pytest.fixture
def busy_desk(
    sales: Department, alice: User, bob: User, online: Callable[..., User], wa_channel: Channel
) -> dict[str, Any]:
    """Sales open all week (its own schedule, with holidays, beside the desk's), alice and
    bob online with chats already, other customers' conversations, numbered events."""
    # 00:00 to 23:59 and the minute to midnight: open all day, with an interval per day.
    all_day = [Interval(day=d, start=time(0, 0), end=time(23, 59)) for d in range(7)]
    all_day += [Interval(day=d, start=time(23, 59), end=time(0, 0)) for d in range(7)]
    set_business_hours(
        department=None,
        timezone="Africa/Johannesburg",
        weekly=all_day[:3],
        exceptions=[],
        by=None,
    )
    set_business_hours(
        department=sales,
        timezone="Africa/Johannesburg",
        weekly=all_day,
        exceptions=[
            DatedHours(date=clock.now().date().replace(year=2000 + n), closed=True)
            for n in range(3)
        ],
        by=None,
    )
    online(alice, capacity=10)
    online(bob, capacity=10)
    online(bob)  # a second tab
    for n in range(4):
        write_in(wa_channel, phone(100 + n), f"earlier {n}", name="Carol Customer")
    return {"alice": alice, "bob": bob, "channel": wa_channel}


def _post(channel: Channel, text: str, wamid: str, sender: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = post_whatsapp(
            Client(), channel, wa_payload(wa_text(text, wamid, sender=sender), wa_id=sender)
        )
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 1
    return [query["sql"] for query in captured.captured_queries]


def _assert_cost(statements: list[str], expected: int) -> None:
    listing = "\n".join(sql[:160] for sql in statements)
    assert len(statements) == expected + LOCK, listing
    # One transaction, no savepoint inside it.
    begins = [sql for sql in statements if sql.upper().startswith("BEGIN")]
    assert len(begins) == 1, listing
    assert not any("SAVEPOINT" in sql.upper() for sql in statements), listing


def _everything_numbered() -> None:
    """The request numbered its live events itself: none is left for the sweep, and the
    log runs 1, 2, 3, ... with no gap."""
    assert not LiveEvent.objects.filter(seq__isnull=True).exists()
    seqs = list(LiveEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_new_chat_given_to_an_agent_and_a_message_joining_it(busy_desk: dict[str, Any]) -> None:
    channel, bob = busy_desk["channel"], busy_desk["bob"]
    # Bob served this customer before: with a choice of agents, the chat goes back to him.
    earlier = Chat.objects.get(contact__phone="+27820000100")
    with transaction.atomic():
        lifecycle.close(earlier, closed_by="system", user=None)
        Chat.objects.filter(pk=earlier.pk).update(agent=bob)

    statements = _post(channel, "Hello again", "wamid.Q1", "27820000100")
    _assert_cost(statements, NEW_CHAT_TO_AN_AGENT)
    chat = Chat.objects.get(contact__phone="+27820000100", status="open")
    assert (chat.kind, chat.agent_id) == (ChatKind.CHAT, bob.pk)
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", flat=True)) == [
        "created",
        "assigned",
    ]
    _everything_numbered()

    statements = _post(channel, "Are you there?", "wamid.Q2", "27820000100")
    _assert_cost(statements, MESSAGE_IN_A_LIVE_CHAT)
    assert Message.objects.filter(chat=chat).count() == 2
    created = LiveEvent.objects.filter(type="message.created", chat_id=chat.pk).order_by("seq")
    assert [event.agent_id for event in created] == [bob.pk, bob.pk]
    _everything_numbered()


def test_a_new_ticket_and_a_message_joining_it(busy_desk: dict[str, Any]) -> None:
    channel = busy_desk["channel"]
    Connection.objects.all().delete()  # nobody online: new chats become tickets
    contacts_before = Contact.objects.count()

    statements = _post(channel, "Anyone?", "wamid.T1", "27820000900")
    _assert_cost(statements, NEW_CHAT_AS_A_TICKET)
    ticket = Chat.objects.get(contact__phone="+27820000900")
    assert (ticket.kind, ticket.ticket_state) == (ChatKind.TICKET, TicketState.UNASSIGNED)
    assert Contact.objects.count() == contacts_before + 1
    assert Message.objects.filter(chat=ticket, is_automatic=True).count() == 1  # the reply
    _everything_numbered()

    statements = _post(channel, "Still there?", "wamid.T2", "27820000900")
    _assert_cost(statements, MESSAGE_IN_A_TICKET)
    assert Message.objects.filter(chat=ticket, is_automatic=False).count() == 2
    created = LiveEvent.objects.filter(type="message.created", chat_id=ticket.pk).last()
    assert created is not None and created.department_id == ticket.department_id
    _everything_numbered()
