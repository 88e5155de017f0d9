"""The supervisor console through the test client: who may open it, the grouping and
counts, the agent summary, the assign dialog (only online and available agents, a
department nobody can serve shown disabled with its reason, the service's refusal as a
sentence) and the ticket actions, one by one or in bulk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatStatus, TicketState
from chatdesk.core import clock

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "path",
    [
        "/supervisor/",
        "/supervisor/lists/",
        "/supervisor/tickets/assign/",
    ],
)
def test_agents_are_refused_the_console(client_as, alice: User, path: str):
    assert client_as(alice).get(path).status_code == 403


def test_agents_may_not_act_on_tickets_from_the_console(client_as, make_chat, alice: User):
    ticket = make_chat("+27820000001", state="unassigned")
    response = client_as(alice).post("/supervisor/tickets/action/", {"do": f"close:{ticket.pk}"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == ChatStatus.OPEN


def test_chats_are_grouped_by_agent_and_an_agent_filters_the_list(
    client_as, make_chat, sam: User, alice: User, bob: User
):
    make_chat("+27820000001", name="Open One", agent=alice)
    make_chat("+27820000002", name="Open Two", agent=alice)
    make_chat("+27820000003", name="Open Bob", agent=bob)
    make_chat("+27820000004", name="Waiting One")
    client = client_as(sam)
    html = client.get("/supervisor/lists/", headers=HTMX).content.decode()
    assert re.search(r'<span>Alice Agent</span><span class="count">2</span>', html)
    assert re.search(r'<span>Bob Agent</span><span class="count">1</span>', html)
    assert re.search(r'Waiting for an agent</span><span class="count">1</span>', html)
    assert re.search(r'<span>Total</span><span class="count">4</span>', html)

    html = client.get(f"/supervisor/lists/?tab=chats&agent={alice.pk}").content.decode()
    assert "Open One" in html and "Open Two" in html
    assert "Open Bob" not in html and "Waiting One" not in html
    link = re.search(rf'<a class="sv-agent" href="\?tab=chats&amp;agent={alice.pk}"[^>]*>', html)
    assert link and 'aria-current="true"' in link.group(0)

    html = client.get("/supervisor/lists/?tab=chats&agent=none").content.decode()
    assert "Waiting One" in html and "Open One" not in html


def test_the_selected_chat_stays_marked_and_its_panel_loads(
    client_as, make_chat, sam: User, alice: User
):
    chat = make_chat("+27820000001", name="Open One", agent=alice)
    html = client_as(sam).get(f"/supervisor/?chat={chat.pk}").content.decode()
    assert f'hx-get="/chats/{chat.pk}/panel/" hx-trigger="load"' in html
    assert re.search(rf'id="open-{chat.pk}"[^>]*aria-current="true"', html, re.S)
    html = client_as(sam).get(f"/supervisor/chats/{chat.pk}/").content.decode()
    assert f'hx-get="/chats/{chat.pk}/panel/"' in html
    lists = client_as(sam).get(f"/supervisor/lists/?tab=chats&chat={chat.pk}").content.decode()
    assert re.search(rf'id="open-{chat.pk}"[^>]*aria-current="true"', lists, re.S)


def test_tickets_split_into_unassigned_assigned_and_closed(
    client_as, make_chat, sam: User, alice: User
):
    make_chat("+27820000001", name="Nobody Yet", state="unassigned")
    make_chat("+27820000002", name="Alices Ticket", agent=alice, state="assigned")
    make_chat("+27820000003", name="Done Ticket", agent=alice, state="ticket_closed")
    client = client_as(sam)
    html = client.get("/supervisor/lists/?tab=tickets").content.decode()
    for label, count in (("Unassigned", 1), ("Assigned", 1), ("Closed", 1)):
        assert re.search(rf'class="subtab"[^>]*>{label} <span class="count">{count}</span>', html)
    assert "Nobody Yet" in html and "Alices Ticket" not in html
    html = client.get("/supervisor/lists/?tab=tickets&state=assigned").content.decode()
    assert "Alices Ticket" in html and "Nobody Yet" not in html
    assert ">Assign</button>" in html and ">Close</button>" in html
    html = client.get("/supervisor/lists/?tab=tickets&state=closed").content.decode()
    assert "Done Ticket" in html and ">Reopen</button>" in html


# Midday: "today" holds the chats assigned minutes ago (just after midnight it would not).
@time_machine.travel("2026-06-03 12:00:00+00:00", tick=True)
def test_the_agent_summary_shows_load_presence_and_today(
    client_as, make_chat, sam: User, alice: User, online
):
    online(alice, capacity=4)
    now = clock.now()
    first = make_chat("+27820000001", name="Open One", agent=alice)
    Chat.objects.filter(pk=first.pk).update(
        assigned_at=now - timedelta(minutes=10), first_response_at=now - timedelta(minutes=9)
    )
    second = make_chat("+27820000002", name="Open Two", agent=alice)
    Chat.objects.filter(pk=second.pk).update(
        assigned_at=now - timedelta(minutes=5), first_response_at=now - timedelta(minutes=2)
    )
    make_chat("+27820000003", name="Ticket", agent=alice, state="assigned")
    make_chat("+27820000004", name="Closed", agent=alice, state="closed")
    html = client_as(sam).get(f"/supervisor/lists/?tab=chats&agent={alice.pk}").content.decode()
    summary = html[html.index('class="card sv-summary"') :]
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)", summary))
    assert figures["Open chats"] == "2"
    assert figures["Tickets"] == "1"
    assert figures["Capacity"] == "2/4"
    assert figures["Closed today"] == "1"
    assert figures["Avg. first response today"].strip() == "2 min"  # (1 min + 3 min) / 2
    assert "Available · connected" in summary


# The assign dialog


def test_the_dialog_lists_only_online_and_available_agents(
    client_as, make_chat, sam: User, alice: User, bob: User, dave: User, online
):
    chat = make_chat("+27820000001", name="Carol", agent=alice)
    online(bob, capacity=5)
    away = online(dave)
    away.presence = "away"
    away.save()
    make_chat("+27820000002", agent=bob)
    html = client_as(sam).get(f"/chats/{chat.pk}/assign/", headers=HTMX).content.decode()
    assert "<dialog" in html and 'aria-labelledby="assign-title"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Bob Agent — 1/5" in html
    assert "Dave Support" not in html  # online but away
    assert "Alice Agent" not in html  # holds the chat (and is offline)
    # Nobody in Support can take it: disabled, with the reason.
    assert re.search(r'<option value="\d+" disabled>Support — No agent available in Support', html)
    assert "Override capacity" in html
    # Picking Sales narrows the agents and offers the department itself.
    sales_id = re.search(r'<option value="(\d+)"[^>]*>Sales</option>', html)
    assert sales_id
    form = client_as(sam).get(
        f"/chats/{chat.pk}/assign/?part=form&department={sales_id.group(1)}", headers=HTMX
    )
    part = form.content.decode()
    assert "<dialog" not in part and "Any available agent in Sales" in part


def test_an_agent_transferring_sees_no_capacity_override(
    client_as, make_chat, alice: User, bob: User, online
):
    chat = make_chat("+27820000001", name="Carol", agent=alice)
    online(bob)
    html = client_as(alice).get(f"/chats/{chat.pk}/assign/", headers=HTMX).content.decode()
    assert "Bob Agent" in html and "Override capacity" not in html


def test_assigning_moves_the_chat_and_tells_the_page(
    client_as, make_chat, sam: User, alice: User, bob: User, online
):
    chat = make_chat("+27820000001", name="Carol", agent=alice)
    online(bob)
    response = client_as(sam).post(
        f"/chats/{chat.pk}/assign/", {"agent": bob.pk, "note": "Over to you"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Assigned the chat to Bob Agent." in response.content.decode()
    assert "desk:assigned" in response["HX-Trigger"] and "desk:lists" in response["HX-Trigger"]
    chat.refresh_from_db()
    assert chat.agent_id == bob.pk


def test_a_refusal_shows_the_services_sentence(
    client_as, make_chat, sam: User, alice: User, bob: User
):
    chat = make_chat("+27820000001", name="Carol", agent=alice)
    # Bob is not online: the service refuses, and the dialog says why.
    response = client_as(sam).post(f"/chats/{chat.pk}/assign/", {"agent": bob.pk}, headers=HTMX)
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Bob Agent is not online and available." in html
    assert "HX-Trigger" not in response
    chat.refresh_from_db()
    assert chat.agent_id == alice.pk


def test_assigning_a_ticket_to_an_online_agent(
    client_as, make_chat, sam: User, alice: User, online
):
    ticket = make_chat("+27820000001", name="Carol", state="unassigned")
    online(alice)
    client = client_as(sam)
    html = client.get(f"/chats/{ticket.pk}/assign/", headers=HTMX).content.decode()
    assert "Assign the ticket with Carol" in html and "Alice Agent" in html
    response = client.post(f"/chats/{ticket.pk}/assign/", {"agent": alice.pk}, headers=HTMX)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.agent_id == alice.pk and ticket.ticket_state == TicketState.ASSIGNED


# Ticket actions


def test_bulk_close_reports_each_refusal(client_as, make_chat, sam: User, alice: User):
    one = make_chat("+27820000001", name="First", state="unassigned")
    two = make_chat("+27820000002", name="Second", agent=alice, state="assigned")
    done = make_chat("+27820000003", name="Already Done", state="ticket_closed")
    response = client_as(sam).post(
        "/supervisor/tickets/action/",
        {"do": "close", "chat": [one.pk, two.pk, done.pk]},
        headers=HTMX,
    )
    html = response.content.decode()
    assert "Closed 2 tickets." in html
    assert 'role="alert"' in html and "Already Done: This chat is already closed." in html
    assert response["HX-Trigger"] == "desk:lists"
    for ticket in (one, two):
        ticket.refresh_from_db()
        assert ticket.status == ChatStatus.CLOSED


def test_one_ticket_is_reopened_from_its_row(client_as, make_chat, sam: User):
    ticket = make_chat("+27820000001", name="First", state="ticket_closed")
    response = client_as(sam).post(
        "/supervisor/tickets/action/", {"do": f"reopen:{ticket.pk}"}, headers=HTMX
    )
    assert "Reopened 1 ticket." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == ChatStatus.OPEN and ticket.ticket_state == TicketState.UNASSIGNED


def test_bulk_assign_assigns_every_selected_ticket(
    client_as, make_chat, sam: User, alice: User, online
):
    tickets = [make_chat(f"+2782000000{i}", state="unassigned") for i in range(3)]
    online(alice)
    client = client_as(sam)
    ids = [t.pk for t in tickets]
    html = client.get("/supervisor/tickets/assign/", {"chat": ids}, headers=HTMX).content.decode()
    assert "Assign 3 tickets" in html
    response = client.post(
        "/supervisor/tickets/assign/", {"chat": ids, "agent": alice.pk}, headers=HTMX
    )
    assert "Assigned 3 tickets to Alice Agent." in response.content.decode()
    assert Chat.objects.filter(pk__in=ids, agent=alice).count() == 3


def test_customer_text_is_escaped_in_the_console(client_as, make_chat, sam: User, alice: User):
    chat = make_chat("+27820000009", name='<script>alert("x")</script>', agent=alice)
    client = client_as(sam)
    for path in (
        "/supervisor/",
        f"/supervisor/lists/?agent={alice.pk}",
        f"/chats/{chat.pk}/assign/",
    ):
        assert "<script>alert" not in client.get(path).content.decode()


def test_the_second_of_two_supervisors_assigning_a_ticket_is_told_who_took_it(
    client_as, make_chat, sam: User, ada: User, alice: User, bob: User
):
    ticket = make_chat("+27820000001", name="Carol", state="unassigned")
    sams, adas = client_as(sam), client_as(ada)
    # Both open the dialog while the ticket waits: it remembers who held it (nobody).
    for client in (sams, adas):
        html = client.get(f"/chats/{ticket.pk}/assign/", headers=HTMX).content.decode()
        assert '<input type="hidden" name="seen_agent" value="">' in html
    assert (
        adas.post(
            f"/chats/{ticket.pk}/assign/", {"agent": bob.pk, "seen_agent": ""}, headers=HTMX
        ).status_code
        == 200
    )

    response = sams.post(
        f"/chats/{ticket.pk}/assign/", {"agent": alice.pk, "seen_agent": ""}, headers=HTMX
    )
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Ada Admin assigned it to Bob Agent a moment ago." in html
    assert "HX-Trigger" not in response
    ticket.refresh_from_db()
    assert ticket.agent_id == bob.pk
    # The dialog now shows the ticket as it is; sending it again is a knowing choice.
    assert f'<input type="hidden" name="seen_agent" value="{bob.pk}">' in html
    plain = sams.post(f"/chats/{ticket.pk}/assign/", {"agent": alice.pk, "seen_agent": ""})
    assert plain.status_code == 409
    again = sams.post(
        f"/chats/{ticket.pk}/assign/", {"agent": alice.pk, "seen_agent": bob.pk}, headers=HTMX
    )
    assert "Assigned the ticket to Alice Agent." in again.content.decode()
    ticket.refresh_from_db()
    assert ticket.agent_id == alice.pk
