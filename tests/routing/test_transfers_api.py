"""Assigning, transferring, accepting, closing and reopening through /api/v1."""

from __future__ import annotations

import pytest

from chatdesk.chats.models import Chat, ChatEvent, Notification
from tests.support.chats import phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_chat(online, customer_writes, alice) -> Chat:
    online(alice)
    chat = customer_writes(phone(1))
    assert chat.agent == alice
    return chat


def test_supervisor_transfers_to_an_online_agent_with_a_note(api_as, alices_chat, sam, bob, online):
    online(bob)
    response = api_as(sam).post(
        f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk, "note": "VIP, be kind"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["agent_id"] == bob.pk
    event = ChatEvent.objects.get(chat=alices_chat, kind="transferred")
    assert (event.actor, event.data["from_agent_id"], event.data["agent_id"]) == (
        sam,
        alices_chat.agent_id,
        bob.pk,
    )
    assert event.data["note"] == "VIP, be kind"
    assert Notification.objects.filter(recipient=bob, chat=alices_chat, kind="transferred").exists()


def test_holding_agent_transfers_own_chat_but_not_anothers(api_as, alices_chat, alice, bob, online):
    online(bob)
    assert (
        api_as(bob).post(f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk}).status_code == 404
    )
    response = api_as(alice).post(f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk})
    assert response.status_code == 200
    assert Chat.objects.get(pk=alices_chat.pk).agent == bob


def test_offline_agent_is_refused_with_409(api_as, alices_chat, sam, bob):
    response = api_as(sam).post(f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk})
    assert response.status_code == 409
    assert response.json()["detail"] == "Bob Agent is not online and available."
    assert Chat.objects.get(pk=alices_chat.pk).agent_id == alices_chat.agent_id


def test_full_agent_needs_a_supervisors_override(
    api_as, alices_chat, sam, bob, online, customer_writes
):
    online(bob, capacity=1)
    Chat.objects.filter(pk=customer_writes(phone(2)).pk).update(agent=bob)
    refused = api_as(sam).post(f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk})
    assert refused.status_code == 409
    assert "at capacity" in refused.json()["detail"]
    forced = api_as(sam).post(
        f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk, "override_capacity": True}
    )
    assert forced.status_code == 200


def test_agent_cannot_override_capacity(api_as, alices_chat, alice, bob, online):
    online(bob)
    response = api_as(alice).post(
        f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk, "override_capacity": True}
    )
    assert response.status_code == 403


def test_department_without_available_agents_is_409(api_as, alices_chat, sam, support):
    response = api_as(sam).post(f"/chats/{alices_chat.pk}/assign", {"department_id": support.pk})
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "No agent in Support is online and available to take this chat."
    )


def test_department_transfer_picks_an_agent_there(api_as, alices_chat, sam, support, dave, online):
    online(dave)
    response = api_as(sam).post(f"/chats/{alices_chat.pk}/assign", {"department_id": support.pk})
    assert response.status_code == 200
    assert (response.json()["agent_id"], response.json()["department_id"]) == (dave.pk, support.pk)


def test_assign_needs_exactly_one_target(api_as, alices_chat, sam):
    response = api_as(sam).post(f"/chats/{alices_chat.pk}/assign", {})
    assert response.status_code == 400
    assert response.json()["detail"] == "Give either agent_id or department_id."


def test_available_agents_lists_online_available_with_room(
    api_as, sam, alice, bob, dave, online, sales
):
    online(alice)
    online(dave)
    listed = api_as(sam).get("/agents/available").json()
    assert [a["username"] for a in listed] == ["alice", "dave"]
    in_sales = api_as(sam).get("/agents/available", department_id=sales.pk).json()
    assert [a["username"] for a in in_sales] == ["alice"]
    assert in_sales[0]["open_chats"] == 0 and in_sales[0]["capacity"] == alice.capacity


def test_close_and_reopen_record_who(api_as, alices_chat, alice):
    closed = api_as(alice).post(f"/chats/{alices_chat.pk}/close")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["closed_by"]) == ("closed", "agent")
    assert api_as(alice).post(f"/chats/{alices_chat.pk}/close").status_code == 409
    reopened = api_as(alice).post(f"/chats/{alices_chat.pk}/reopen")
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["closed_by"]) == ("open", None)
    kinds = list(ChatEvent.objects.filter(chat=alices_chat).values_list("kind", flat=True))
    assert kinds[-2:] == ["closed", "reopened"]


def test_supervisor_close_is_recorded_as_supervisor(api_as, alices_chat, sam):
    response = api_as(sam).post(f"/chats/{alices_chat.pk}/close")
    assert response.json()["closed_by"] == "supervisor"


def test_tickets_assigned_by_supervisors_accepted_by_agents(
    api_as, customer_writes, sam, alice, bob
):
    first = customer_writes(phone(1))
    second = customer_writes(phone(2))
    third = customer_writes(phone(3))
    assert {c.kind for c in (first, second, third)} == {"ticket"}
    assert api_as(alice).post(f"/chats/{first.pk}/assign", {"agent_id": bob.pk}).status_code == 403
    assigned = api_as(sam).post(f"/chats/{first.pk}/assign", {"agent_id": bob.pk})
    assert (assigned.json()["ticket_state"], assigned.json()["agent_id"]) == ("assigned", bob.pk)
    accepted = api_as(alice).post(f"/chats/{second.pk}/accept")
    assert (accepted.json()["ticket_state"], accepted.json()["agent_id"]) == ("assigned", alice.pk)
    again = api_as(bob).post(f"/chats/{second.pk}/accept")
    assert again.status_code == 404  # now alice's: bob cannot see it
    oldest = api_as(bob).post("/chats/tickets/accept-oldest", {"count": 5})
    assert oldest.json() == {"accepted": [third.pk]}
    closed = api_as(bob).post(f"/chats/{third.pk}/close")
    assert (closed.json()["ticket_state"], closed.json()["closed_by"]) == ("closed", "agent")
    reopened = api_as(sam).post(f"/chats/{third.pk}/reopen")
    assert (reopened.json()["ticket_state"], reopened.json()["agent_id"]) == ("assigned", bob.pk)


def test_supervisors_do_not_accept_tickets(api_as, customer_writes, sam):
    ticket = customer_writes(phone(1))
    response = api_as(sam).post(f"/chats/{ticket.pk}/accept")
    assert response.status_code == 403


def test_raising_capacity_through_the_api_takes_a_waiting_chat(
    api_as, ada, alice, online, customer_writes, django_capture_on_commit_callbacks
):
    online(alice, capacity=1)
    customer_writes(phone(1))
    waiting = customer_writes(phone(2))
    assert waiting.agent is None
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(ada).patch(f"/users/{alice.pk}", {"capacity": 2})
    assert response.status_code == 200
    waiting.refresh_from_db()
    assert waiting.agent == alice


def test_an_assignment_chosen_against_an_older_view_is_refused_with_who_moved_it(
    api_as, alices_chat, sam, ada, bob, dave, online
):
    online(bob)
    online(dave)
    # Sam and Ada both saw the chat with Alice; Ada moves it to Bob first.
    seen = {"expected_agent_id": alices_chat.agent_id}
    first = api_as(ada).post(f"/chats/{alices_chat.pk}/assign", {"agent_id": bob.pk, **seen})
    assert first.status_code == 200, first.content
    late = api_as(sam).post(f"/chats/{alices_chat.pk}/assign", {"agent_id": dave.pk, **seen})
    assert late.status_code == 409
    assert late.json() == {"detail": "Ada Admin transferred it to Bob Agent a moment ago."}
    alices_chat.refresh_from_db()
    assert alices_chat.agent_id == bob.pk
    assert not Notification.objects.filter(recipient=dave).exists()
    # Saying what one saw now, or nothing at all, assigns as before.
    again = {"agent_id": dave.pk, "expected_agent_id": bob.pk}
    assert api_as(sam).post(f"/chats/{alices_chat.pk}/assign", again).status_code == 200


def test_an_unassigned_ticket_someone_took_is_refused_naming_them(
    api_as, customer_writes, sam, alice, bob
):
    ticket = customer_writes(phone(2))  # nobody online: an unassigned ticket
    assert ticket.kind == "ticket" and ticket.agent_id is None
    assert api_as(alice).post(f"/chats/{ticket.pk}/accept").status_code == 200
    late = api_as(sam).post(
        f"/chats/{ticket.pk}/assign", {"agent_id": bob.pk, "expected_agent_id": None}
    )
    assert late.status_code == 409
    assert late.json() == {"detail": "Alice Agent already took this ticket."}
    ticket.refresh_from_db()
    assert ticket.agent_id == alice.pk
