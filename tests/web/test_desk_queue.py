"""The desk's queue: a ticket of a channel with no department ("anyone") is every agent's
to see and accept, in the lists, their counts and the live events alike."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, ChatKind, TicketState
from chatdesk.providers.models import Channel, ChannelKind
from tests.support.capture import capture_live_events
from tests.support.chats import write_in

# Live events are numbered after a commit.
pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def anyone_channel(db: object) -> Channel:
    """A sandbox with no department, as the demo's is."""
    return Channel.objects.create(kind=ChannelKind.SANDBOX, name="Anyone")


def section(html: str, title_id: str) -> str:
    found = re.search(rf'<section[^>]*aria-labelledby="{title_id}">.*?</section>', html, re.S)
    assert found, title_id
    return found.group(0)


def test_a_ticket_with_no_department_is_in_every_agents_queue_and_one_accepts_it(
    client_as: Callable[[User], Client], anyone_channel: Channel, alice: User, dave: User, sam
) -> None:
    inbox_alice, inbox_dave = capture_live_events(alice, dave)
    message = write_in(anyone_channel, "+27820000101", "Anyone there?", name="Nomvula")
    ticket = Chat.objects.get(pk=message.chat_id)
    assert ticket.kind == ChatKind.TICKET and ticket.ticket_state == TicketState.UNASSIGNED
    assert ticket.department_id is None

    # Alice (Sales) and Dave (Support) both see it waiting, and the counts agree.
    for agent in (alice, dave):
        html = client_as(agent).get("/agent/lists/", headers=HTMX).content.decode()
        queue = section(html, "queue-title")
        assert "Nomvula" in queue
        assert 'Unassigned tickets <span class="count">1</span>' in queue
        summary = client_as(agent).get("/api/v1/chats/summary?tab=tickets").json()
        assert summary["total"] == 1 and summary["unassigned"] == 1
        assert access.users_who_may_see(ticket).filter(pk=agent.pk).exists()
    # Its live events reach both of them.
    for inbox in (inbox_alice, inbox_dave):
        assert {"chat.created", "message.created"} <= {f["type"] for f in inbox.take()}

    # Dave accepts it; it is his, and Alice's screen is told it left her queue.
    answer = client_as(dave).post("/agent/tickets/accept/", {"chat_id": ticket.pk}, headers=HTMX)
    assert answer.status_code == 200
    assert "You accepted the ticket of Nomvula." in answer.content.decode()
    ticket.refresh_from_db()
    assert ticket.agent_id == dave.pk and ticket.ticket_state == TicketState.ASSIGNED
    assert [f["type"] for f in inbox_alice.take()] == ["chat.assigned"]
    html = client_as(alice).get("/agent/lists/", headers=HTMX).content.decode()
    assert "Nomvula" not in html
    assert client_as(alice).get("/api/v1/chats/summary?tab=tickets").json()["total"] == 0
