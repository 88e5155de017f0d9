"""The agent workspace (/agent/): who may use it, what its lists hold (my live chats with
unread badges and waiting times, my departments' unassigned tickets, my tickets), the
presence switch, accepting tickets (one, or the N oldest), and opening a chat."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from chatdesk.accounts.models import Connection, User
from chatdesk.chats.models import Chat, ChatStatus, Direction, Message, TicketState
from chatdesk.core import clock
from chatdesk.routing.models import Department

HTMX = {"HX-Request": "true"}


def says(
    chat: Chat, text: str, *, direction: str = Direction.IN, minutes_ago: float = 0
) -> Message:
    at = clock.now() - timedelta(minutes=minutes_ago)
    message = Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=direction,
        text=text,
        status=None if direction == Direction.IN else "sent",
        created_at=at,
    )
    Chat.objects.filter(pk=chat.pk).update(last_message_at=at)
    return message


def in_department(chat: Chat, department: Department, *, minutes_ago: float = 0) -> Chat:
    Chat.objects.filter(pk=chat.pk).update(
        department=department, created_at=clock.now() - timedelta(minutes=minutes_ago)
    )
    chat.refresh_from_db()
    return chat


def item(html: str, chat: Chat) -> str:
    found = re.search(rf'<li class="chat-item" data-chat-id="{chat.pk}">.*?</li>', html, re.S)
    assert found, f"chat {chat.pk} is not listed"
    return found.group(0)


def section(html: str, title_id: str) -> str:
    found = re.search(rf'<section[^>]*aria-labelledby="{title_id}">.*?</section>', html, re.S)
    assert found, title_id
    return found.group(0)


# Who may use it


AGENT_GETS = [
    "/agent/",
    "/agent/lists/",
    "/agent/presence/",
    "/agent/chats/1/",
    "/agent/chats/1/open/",
]
AGENT_POSTS = ["/agent/presence/", "/agent/tickets/accept/", "/agent/chats/1/read/"]


@pytest.mark.parametrize("persona", ["sam", "ada"])
def test_supervisors_and_admins_are_refused_the_workspace(request, client_as, persona: str):
    client = client_as(request.getfixturevalue(persona))
    for path in AGENT_GETS:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "This is the agents&#x27; workspace" in response.content.decode()
    for path in AGENT_POSTS:
        assert client.post(path, {"status": "away", "oldest": "1"}).status_code == 403, path


def test_anonymous_visitors_go_to_login(client: Client, db: Any):
    for path in AGENT_GETS:
        assert client.get(path)["Location"] == f"/login/?next={path}"
    assert client.post("/agent/presence/", {"status": "away"}).status_code == 302


def test_the_forms_need_the_csrf_token(alice: User):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/agent/presence/", {"status": "away"}).status_code == 403
    assert client.post("/agent/tickets/accept/", {"oldest": "1"}).status_code == 403
    alice.refresh_from_db()
    assert alice.presence == "offline"
    html = client.get("/agent/").content.decode()
    form = re.search(r'<form method="post" action="/agent/presence/".*?</form>', html, re.S)
    assert form and "csrfmiddlewaretoken" in form.group(0)


# What the lists hold


def test_only_my_chats_and_my_departments_unassigned_tickets(
    client_as, make_chat, alice: User, bob: User, dave: User, sales: Department, support
):
    mine = make_chat("+27820000001", name="Mine Open", agent=alice)
    my_ticket = make_chat("+27820000002", name="Mine Ticket", agent=alice, state="assigned")
    make_chat("+27820000003", name="Mine Closed", agent=alice, state="closed")
    make_chat("+27820000004", name="Bobs Chat", agent=bob)
    make_chat("+27820000005", name="Bobs Ticket", agent=bob, state="assigned")
    sales_queue = in_department(
        make_chat("+27820000006", name="Sales Queue", state="unassigned"), sales
    )
    in_department(make_chat("+27820000007", name="Support Queue", state="unassigned"), support)
    in_department(make_chat("+27820000008", name="Sales Done", state="ticket_closed"), sales)
    make_chat("+27820000009", name="Nowhere Queue", state="unassigned")

    html = client_as(alice).get("/agent/lists/", headers=HTMX).content.decode()
    live = section(html, "live-title")
    queue = section(html, "queue-title")
    tickets = section(html, "tickets-title")
    assert "Mine Open" in live and 'Live chats <span class="count">1</span>' in live
    # The desk's queue (a ticket with no department) is every agent's too.
    assert "Nowhere Queue" in queue
    assert "Sales Queue" in queue and 'Unassigned tickets <span class="count">2</span>' in queue
    assert "Mine Ticket" in tickets and 'My tickets <span class="count">1</span>' in tickets
    for hidden in ("Mine Closed", "Bobs Chat", "Bobs Ticket", "Support Queue", "Sales Done"):
        assert hidden not in html
    # Each row opens the chat; only the queue's rows have Accept.
    assert f'hx-get="/agent/chats/{mine.pk}/open/"' in item(html, mine)
    assert 'name="chat_id"' in item(html, sales_queue)
    assert 'name="chat_id"' not in item(html, my_ticket)

    daves = client_as(dave).get("/agent/lists/").content.decode()
    assert "Support Queue" in daves and "Sales Queue" not in daves and "Mine Open" not in daves
    assert "Nowhere Queue" in daves


def test_live_chats_show_unread_counts_newest_activity_first(client_as, make_chat, alice: User):
    older = make_chat("+27820000001", name="Older Chat", agent=alice)
    newer = make_chat("+27820000002", name="Newer Chat", agent=alice)
    says(older, "Hello?", minutes_ago=10)
    says(newer, "One", minutes_ago=3)
    says(newer, "Two", minutes_ago=2)
    says(newer, "Thanks, I got it", direction=Direction.OUT, minutes_ago=1)
    says(newer, "Three", minutes_ago=0)
    client = client_as(alice)
    html = client.get("/agent/lists/").content.decode()
    assert html.index("Newer Chat") < html.index("Older Chat")
    assert re.search(r'class="ws-unread"[^>]*>3<', item(html, newer))  # nothing read yet
    assert re.search(r'class="ws-unread"[^>]*>1<', item(html, older))

    # Reading the chat clears its badge; only later messages count again.
    assert client.post(f"/agent/chats/{newer.pk}/read/").status_code == 204
    html = client.get("/agent/lists/").content.decode()
    assert "ws-unread" not in item(html, newer)
    assert "ws-unread" in item(html, older)
    says(newer, "Four", minutes_ago=-0.01)
    assert re.search(
        r'class="ws-unread"[^>]*>1<', item(client.get("/agent/lists/").content.decode(), newer)
    )


def test_reading_someone_elses_chat_is_not_found(client_as, make_chat, alice, bob):
    bobs = make_chat("+27820000001", name="Bobs Chat", agent=bob)
    says(bobs, "Hi")
    response = client_as(alice).post(f"/agent/chats/{bobs.pk}/read/")
    assert response.status_code == 404
    assert response.content.decode() == "No chat with that id."
    bobs.refresh_from_db()
    assert bobs.agent_read_at is None


def test_waiting_time_counts_from_the_first_unanswered_message(client_as, make_chat, alice):
    chat = make_chat("+27820000001", name="Waiting Chat", agent=alice)
    says(chat, "Hello", minutes_ago=20)
    says(chat, "Hi, how can I help?", direction=Direction.OUT, minutes_ago=12)
    first = says(chat, "My order is late", minutes_ago=7)
    says(chat, "Order 1042", minutes_ago=3)
    html = item(client_as(alice).get("/agent/lists/").content.decode(), chat)
    waiting = re.search(
        r'<span class="ws-waiting" data-waiting-since="([^"]+)">([^<]+)</span>', html
    )
    assert waiting
    assert waiting.group(2) == "waiting 7 min"
    assert waiting.group(1) == first.created_at.isoformat()

    says(chat, "Let me check.", direction=Direction.OUT, minutes_ago=1)
    assert "ws-waiting" not in item(client_as(alice).get("/agent/lists/").content.decode(), chat)


def test_a_chat_nobody_answered_waits_since_it_was_assigned(client_as, make_chat, alice):
    chat = make_chat("+27820000001", name="Fresh Chat", agent=alice)
    Chat.objects.filter(pk=chat.pk).update(assigned_at=clock.now() - timedelta(minutes=65))
    html = item(client_as(alice).get("/agent/lists/").content.decode(), chat)
    assert ">waiting 1 h 5 min<" in html


# Accepting tickets


def test_accepting_one_ticket(client_as, make_chat, alice: User, bob: User, sales, support):
    ticket = in_department(make_chat("+27820000001", name="Queue One", state="unassigned"), sales)
    other = in_department(
        make_chat("+27820000002", name="Support One", state="unassigned"), support
    )
    client = client_as(alice)
    response = client.post("/agent/tickets/accept/", {"chat_id": ticket.pk}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="agent-flash" hx-swap-oob="innerHTML"' in html
    assert "You accepted the ticket of Queue One." in html
    assert "Queue One" in section(html, "tickets-title")
    assert "Queue One" not in section(html, "queue-title")
    ticket.refresh_from_db()
    assert ticket.agent == alice and ticket.ticket_state == TicketState.ASSIGNED

    # Taken already, or not in my departments: refused with a sentence, nothing changes.
    html = (
        client_as(bob)
        .post("/agent/tickets/accept/", {"chat_id": ticket.pk}, headers=HTMX)
        .content.decode()
    )
    assert re.search(r'role="alert">No chat with that id\.<', html)
    html = client.post(
        "/agent/tickets/accept/", {"chat_id": other.pk}, headers=HTMX
    ).content.decode()
    assert re.search(r'role="alert">No chat with that id\.<', html)
    other.refresh_from_db()
    assert other.agent is None
    ticket.refresh_from_db()
    assert ticket.agent == alice


def test_accepting_a_ticket_i_hold_already_says_so(client_as, make_chat, alice, sales):
    ticket = in_department(make_chat("+27820000001", name="Queue One", state="unassigned"), sales)
    client = client_as(alice)
    client.post("/agent/tickets/accept/", {"chat_id": ticket.pk}, headers=HTMX)
    html = client.post("/agent/tickets/accept/", {"chat_id": ticket.pk}).content.decode()
    assert re.search(r'role="alert">This ticket is no longer unassigned\.<', html)
    assert "<html" in html  # without htmx: the whole page, with the sentence


def test_accepting_the_n_oldest(client_as, make_chat, alice: User, sales, support):
    tickets = [
        in_department(
            make_chat(f"+2782000000{i}", name=f"Queue {i}", state="unassigned"),
            sales,
            minutes_ago=60 - i,
        )
        for i in range(4)
    ]
    in_department(
        make_chat("+27820000009", name="Support Old", state="unassigned"), support, minutes_ago=90
    )
    client = client_as(alice)
    html = client.get("/agent/lists/").content.decode()
    assert re.search(r'<input id="accept-oldest" name="oldest" type="number"[^>]*value="5"', html)
    assert html.index("Queue 0") < html.index("Queue 3")  # oldest first, as they are taken

    html = client.post("/agent/tickets/accept/", {"oldest": "2"}, headers=HTMX).content.decode()
    assert "You accepted 2 tickets." in html
    owners = {t.pk: Chat.objects.get(pk=t.pk).agent_id for t in tickets}
    assert owners == {
        tickets[0].pk: alice.pk,
        tickets[1].pk: alice.pk,
        tickets[2].pk: None,
        tickets[3].pk: None,
    }
    assert Chat.objects.get(contact__name="Support Old").agent is None

    html = client.post("/agent/tickets/accept/", {"oldest": "5"}, headers=HTMX).content.decode()
    assert "You accepted 2 tickets." in html
    html = client.post("/agent/tickets/accept/", {"oldest": "5"}, headers=HTMX).content.decode()
    assert "There are no unassigned tickets left to accept." in html


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("0", "Accept between 1 and 100 tickets at once."),
        ("101", "Accept between 1 and 100 tickets at once."),
        ("two", "Say how many tickets to accept, as a whole number."),
        ("", "Say how many tickets to accept, as a whole number."),
    ],
)
def test_a_bad_number_to_accept_is_refused_with_a_sentence(
    client_as, make_chat, alice, sales, value: str, sentence: str
):
    ticket = in_department(make_chat("+27820000001", name="Queue One", state="unassigned"), sales)
    html = (
        client_as(alice)
        .post("/agent/tickets/accept/", {"oldest": value}, headers=HTMX)
        .content.decode()
    )
    assert f'role="alert">{sentence}<' in html
    assert Chat.objects.get(pk=ticket.pk).agent is None


# Presence


def test_the_presence_switch_sets_presence_and_requeues_nothing(
    client_as, make_chat, online, alice: User, sales, django_capture_on_commit_callbacks
):
    online(alice)
    mine = in_department(make_chat("+27820000001", name="Mine Open", agent=alice), sales)
    client = client_as(alice)
    html = client.get("/agent/").content.decode()
    assert re.search(r'value="available"[^>]*aria-pressed="true"', html)
    assert "Connected · new chats come to you" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/agent/presence/", {"status": "away"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'value="away"[^>]*aria-pressed="true"', html)
    assert "Connected · away, no new chats" in html
    alice.refresh_from_db()
    assert alice.presence == "away"
    mine.refresh_from_db()
    assert mine.agent == alice and mine.queued_at is None and mine.status == ChatStatus.OPEN

    # A chat waiting in her department's queue comes to her once she is available again.
    waiting = in_department(make_chat("+27820000002", name="In The Queue"), sales)
    Chat.objects.filter(pk=waiting.pk).update(queued_at=clock.now())
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/agent/presence/", {"status": "available"}, headers=HTMX)
    alice.refresh_from_db()
    assert alice.presence == "available"
    waiting.refresh_from_db()
    assert waiting.agent == alice
    mine.refresh_from_db()
    assert mine.agent == alice


def test_offline_is_not_a_choice_of_the_switch(client_as, online, alice: User):
    online(alice)
    html = (
        client_as(alice)
        .post("/agent/presence/", {"status": "offline"}, headers=HTMX)
        .content.decode()
    )
    assert 'role="alert">Choose Available or Away; to go offline, log out.<' in html
    alice.refresh_from_db()
    assert alice.presence == "available"


def test_the_switch_says_when_the_agent_is_not_connected(client_as, alice: User):
    Connection.objects.filter(user=alice).delete()
    html = client_as(alice).get("/agent/presence/").content.decode()
    assert "Not connected" in html
    response = client_as(alice).post("/agent/presence/", {"status": "away"})
    assert response.status_code == 302 and response["Location"] == "/agent/"  # without htmx


def test_the_presence_box_refreshes_on_my_presence_events(client_as, alice: User):
    html = client_as(alice).get("/agent/").content.decode()
    box = re.search(r'<div id="agent-presence"[^>]*>', html)
    assert box
    assert 'hx-get="/agent/presence/"' in box.group(0)
    # live.js fires desk:presence-ID for presence events about user ID (no eval filter in
    # hx-trigger: the Content-Security-Policy forbids it); the browser test
    # test_the_presence_switch proves it live.
    assert f'data-user-id="{alice.pk}"' in box.group(0)
    assert f'hx-trigger="desk:presence-{alice.pk} from:body"' in box.group(0)


# Opening a chat


def test_agent_chat_query_opens_the_panel_on_load(client_as, make_chat, alice: User):
    chat = make_chat("+27820000001", name="Carol Customer", agent=alice)
    for path in (f"/agent/?chat={chat.pk}", f"/agent/chats/{chat.pk}/"):
        html = client_as(alice).get(path).content.decode()
        assert f'<div id="chat-panel" class="ws-panel" hx-get="/chats/{chat.pk}/panel/"' in html
        assert 'hx-trigger="load"' in html
        assert re.search(
            rf'<a class="ws-open"[^>]*data-chat-id="{chat.pk}"[^>]*aria-current="true"', html
        )
        assert f'hx-get="/chats/{chat.pk}/assign/"' in html  # Transfer
        assert 'class="ws chat-open' not in html and 'class="ws ws-chat-open"' in html


def test_someone_elses_chat_is_not_opened(client_as, make_chat, alice: User, bob: User):
    bobs = make_chat("+27820000001", name="Bobs Chat", agent=bob)
    for path in (f"/agent/chats/{bobs.pk}/", f"/agent/?chat={bobs.pk}"):
        response = client_as(alice).get(path)
        assert response.status_code == 404
        html = response.content.decode()
        assert "No chat with that id is yours to see." in html
        assert "chat-panel" not in html and "Bobs Chat" not in html
    # Within the page (htmx), a chat that went elsewhere says so where the chat was.
    response = client_as(alice).get(f"/agent/chats/{bobs.pk}/open/", headers=HTMX)
    assert response.status_code == 200
    assert "This chat is no longer yours" in response.content.decode()
    assert client_as(alice).get("/agent/?chat=abc").status_code == 200


def test_an_unassigned_ticket_opens_with_accept_and_no_transfer(
    client_as, make_chat, alice: User, sales
):
    ticket = in_department(make_chat("+27820000001", name="Queue One", state="unassigned"), sales)
    html = client_as(alice).get(f"/agent/chats/{ticket.pk}/open/", headers=HTMX).content.decode()
    assert "Accept ticket" in html and "/assign/" not in html
    assert f'hx-get="/chats/{ticket.pk}/panel/"' in html


def test_customer_text_is_escaped_in_the_workspace(client_as, make_chat, alice: User):
    chat = make_chat("+27820000001", name='<b onmouseover="x">Eve</b>', agent=alice)
    says(chat, "<script>alert(1)</script>")
    for path in ("/agent/", f"/agent/chats/{chat.pk}/", "/agent/lists/"):
        html = client_as(alice).get(path).content.decode()
        assert "<script>alert(1)" not in html and '<b onmouseover="x">' not in html


def test_the_lists_cost_a_fixed_number_of_queries(
    client_as, make_chat, alice: User, sales, django_assert_max_num_queries
):
    for i in range(10):
        chat = make_chat(f"+2782000{i:04d}", name=f"C{i}", agent=alice if i % 2 else None)
        if i % 2 == 0:
            chat = in_department(chat, sales)
            Chat.objects.filter(pk=chat.pk).update(kind="ticket", ticket_state="unassigned")
        says(chat, f"Message {i}")
    client = client_as(alice)
    # session + user, then every list with its seq, unread counts and waiting times
    with django_assert_max_num_queries(3):
        html = client.get("/agent/lists/").content.decode()
    assert 'Unassigned tickets <span class="count">5</span>' in html
    # ... and on the page, the presence (online?) and the agent's departments
    with django_assert_max_num_queries(5):
        assert client.get("/agent/").status_code == 200
