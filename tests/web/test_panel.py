"""The chat panel and the notifications bell, through their real URLs: who sees what, who
may act, escaping of customer text, the composer's rules, comments and the bell."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import (
    Chat,
    ChatStatus,
    Comment,
    ContactOptOut,
    DeliveryStatus,
    Direction,
    Message,
    Notification,
)
from chatdesk.chats.window import CLOSED_WINDOW_REASON
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.models import Template as WhatsAppTemplate
from chatdesk.web.panel_views import OPTED_OUT_NOTE, SUPERVISOR_NOTE
from tests.support.chats import ChatMaker

Clients = Callable[[User], Client]

HOSTILE_TEXT = "<script>alert('text')</script>"
HOSTILE_NAME = "<img src=x onerror=alert('name')>"


def panel(client: Client, chat: Chat) -> str:
    response = client.get(f"/chats/{chat.pk}/panel/")
    assert response.status_code == 200, response.content
    return response.content.decode()


def inbound(chat: Chat, text: str, *, at: Any = None) -> Message:
    return Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=Direction.IN,
        text=text,
        created_at=at or clock.now(),
    )


@pytest.fixture
def whatsapp(sales: Any) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp Sales",
        department=sales,
        config={"phone_number_id": "1234567890"},
        secrets={"access_token": "a", "app_secret": "b", "verify_token": "c"},
    )


# --- Who may see a panel ----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, alice, make_chat: ChatMaker):
    chat = make_chat("+27820000001", agent=alice)
    response = client.get(f"/chats/{chat.pk}/panel/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    htmx = client.get(f"/chats/{chat.pk}/panel/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == "/login/"
    assert client.get(f"/chats/{chat.pk}/").status_code == 302
    assert client.get("/notifications/bell/").status_code == 302


def test_an_agent_gets_not_found_for_another_agents_chat(
    alice, bob, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000002", agent=alice)
    as_bob = client_as(bob)
    for url in (
        f"/chats/{chat.pk}/panel/",
        f"/chats/{chat.pk}/panel/transcript/",
        f"/chats/{chat.pk}/panel/comments/",
    ):
        response = as_bob.get(url)
        assert response.status_code == 404, url
        assert "not one you can see" in response.content.decode()
    assert as_bob.post(f"/chats/{chat.pk}/panel/send/", {"text": "hi"}).status_code == 404
    assert as_bob.post(f"/chats/{chat.pk}/panel/close/").status_code == 404
    assert not Message.objects.exists()
    assert Chat.objects.get(pk=chat.pk).status == ChatStatus.OPEN
    page = as_bob.get(f"/chats/{chat.pk}/")
    assert page.status_code == 404
    assert "not one you can see" in page.content.decode()


def test_the_header_shows_the_chat_and_the_actions_of_its_agent(
    alice, sales, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000003", name="Thabo Mokoena", agent=alice)
    chat.department = sales
    chat.save()
    html = panel(client_as(alice), chat)
    assert "Thabo Mokoena" in html and "+27820000003" in html
    assert "Sandbox" in html and "Live chat · open" in html and "Alice Agent" in html
    assert "Sales" in html
    assert "Close chat" in html and "Reopen" not in html
    for tab in ("Transcript", "Comments", "Timeline", "Contact"):
        assert re.search(rf'role="tab"[^>]*>{tab}', html), tab
    assert 'role="tablist"' in html and html.count('role="tabpanel"') == 4
    # The panel's requests carry the CSRF token of the page's one source, <body hx-headers>.
    page = client_as(alice).get(f"/chats/{chat.pk}/").text
    assert re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'", page)


# --- The supervisor watches; the agent reads ---------------------------------------------------


def test_a_supervisor_gets_no_composer_on_an_agents_live_chat_and_never_marks_it_read(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000004", agent=alice)
    inbound(chat, "Hello?")
    html = panel(client_as(sam), chat)
    assert SUPERVISOR_NOTE in html
    assert 'name="text"' not in html and "panel/send/" not in html
    assert "Hello?" in html
    assert "Close chat" in html  # a supervisor may still close it
    client_as(sam).get(f"/chats/{chat.pk}/panel/transcript/")
    assert Chat.objects.get(pk=chat.pk).agent_read_at is None

    # Sending anyway is refused with the service's sentence, and nothing is stored.
    response = client_as(sam).post(f"/chats/{chat.pk}/panel/send/", {"text": "Hi"})
    assert response.status_code == 403
    assert Message.objects.filter(direction=Direction.OUT).count() == 0


def test_opening_the_transcript_marks_nothing_read_and_the_page_reads_with_a_post(
    alice, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000005", agent=alice)
    inbound(chat, "Are you there?")
    client = client_as(alice)
    response = client.get(f"/chats/{chat.pk}/panel/transcript/")
    assert response.status_code == 200
    assert "Are you there?" in response.content.decode()
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert Chat.objects.get(pk=chat.pk).agent_read_at is None, "a GET changed nothing"

    # The page shown to the chat's own agent says where to POST that it was read.
    read_url = f"/agent/chats/{chat.pk}/read/"
    assert f'data-read-url="{read_url}"' in page
    assert client.post(read_url).status_code == 204
    assert Chat.objects.get(pk=chat.pk).agent_read_at is not None


def test_the_page_of_someone_elses_chat_asks_for_no_read(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000006", agent=alice)
    inbound(chat, "Hello?")
    page = client_as(sam).get(f"/chats/{chat.pk}/").content.decode()
    assert "Hello?" in page
    assert "data-read-url" not in page


# --- Customer text is text ---------------------------------------------------------------------


def test_hostile_message_bodies_and_contact_names_are_escaped(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000006", name=HOSTILE_NAME, agent=alice)
    inbound(chat, HOSTILE_TEXT)
    inbound(chat, HOSTILE_NAME)
    for user in (alice, sam):
        for html in (
            panel(client_as(user), chat),
            client_as(user).get(f"/chats/{chat.pk}/").content.decode(),
            client_as(user).get(f"/chats/{chat.pk}/panel/transcript/").content.decode(),
        ):
            assert "<script>alert" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;alert(&#x27;text&#x27;)&lt;/script&gt;" in html
            assert "&lt;img src=x onerror=alert(&#x27;name&#x27;)&gt;" in html


# --- Delivery status ---------------------------------------------------------------------------


def test_outbound_messages_show_their_ticks_and_failures_their_reason(
    alice, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000007", agent=alice)
    now = clock.now()
    for n, status in enumerate(DeliveryStatus.values):
        Message.objects.create(
            chat=chat,
            channel=chat.channel,
            direction=Direction.OUT,
            status=status,
            text=f"reply {status}",
            author=alice,
            provider_message_id=None if status == "queued" else f"p{n}",
            error_reason="Number not on WhatsApp" if status == "failed" else "",
            created_at=now + timedelta(seconds=n),
        )
    Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=Direction.OUT,
        status="sent",
        provider_message_id="auto",
        text="We are closed now.",
        is_automatic=True,
        created_at=now + timedelta(seconds=9),
    )
    html = panel(client_as(alice), chat)
    for symbol in ("◷", "✓", "✓✓", "⚠"):
        assert symbol in html
    assert 'cdp-tick-read"' in html
    assert "Not delivered: Number not on WhatsApp" in html
    assert "Automatic reply" in html


# --- Composer ----------------------------------------------------------------------------------


def test_the_agent_sends_from_the_composer(alice, make_chat: ChatMaker, client_as: Clients):
    chat = make_chat("+27820000008", agent=alice)
    response = client_as(alice).post(f"/chats/{chat.pk}/panel/send/", {"text": "Hi <b>Carol</b>"})
    assert response.status_code == 200
    message = Message.objects.get(chat=chat, direction=Direction.OUT)
    assert message.text == "Hi <b>Carol</b>" and message.author == alice
    assert message.status == DeliveryStatus.QUEUED
    html = response.content.decode()
    assert 'hx-swap-oob="innerHTML"' in html
    assert "Hi &lt;b&gt;Carol&lt;/b&gt;" in html
    # An empty message is refused in the alert region, and nothing more is stored.
    empty = client_as(alice).post(f"/chats/{chat.pk}/panel/send/", {"text": "  "})
    assert empty.status_code == 400
    assert re.search(r'role="alert"><p class="alert alert-error">The message is empty.', empty.text)
    assert Message.objects.filter(direction=Direction.OUT).count() == 1


def test_an_open_whatsapp_window_shows_its_countdown(
    alice, whatsapp: Channel, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000009", agent=alice)
    Chat.objects.filter(pk=chat.pk).update(
        channel=whatsapp, last_inbound_at=clock.now() - timedelta(minutes=30)
    )
    html = panel(client_as(alice), Chat.objects.get(pk=chat.pk))
    assert re.search(r"Window open · <span data-countdown>23:(29|30):\d\d</span> left", html)
    assert "data-window-expires=" in html and 'name="text"' in html


def test_outside_the_window_the_composer_offers_approved_templates_only(
    alice, whatsapp: Channel, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000010", agent=alice, state="closed")
    Chat.objects.filter(pk=chat.pk).update(
        channel=whatsapp, last_inbound_at=clock.now() - timedelta(days=2)
    )
    approved = WhatsAppTemplate.objects.create(
        channel=whatsapp,
        name="order_update",
        body="Hi {{1}}, your order {{2}} is on its way.",
        status="approved",
    )
    WhatsAppTemplate.objects.create(
        channel=whatsapp, name="pending_one", body="{{1}}", status="pending"
    )
    WhatsAppTemplate.objects.create(
        channel=whatsapp, name="rejected_one", body="x", status="rejected"
    )
    as_alice = client_as(alice)
    html = panel(as_alice, chat)
    assert "Window closed" in html and "Reopen chat" in html
    assert 'name="text"' not in html
    assert "order_update" in html
    assert "pending_one" not in html and "rejected_one" not in html

    chosen = as_alice.get(f"/chats/{chat.pk}/panel/composer/", {"template_id": approved.pk})
    fields = re.findall(r'<input type="text" id="[^"]+" name="(var_\d+)"', chosen.text)
    assert fields == ["var_1", "var_2"]
    assert "Variable {{1}}" in chosen.text and "Variable {{2}}" in chosen.text
    assert "data-template-body=" in chosen.text

    # Free text is refused with the window's reason; the template goes out, filled in.
    refused = as_alice.post(f"/chats/{chat.pk}/panel/send/", {"text": "hello"})
    assert refused.status_code == 409
    assert CLOSED_WINDOW_REASON.replace("'", "&#x27;") in refused.text
    sent = as_alice.post(
        f"/chats/{chat.pk}/panel/send/",
        {"template_id": approved.pk, "var_1": "Carol", "var_2": "<1042>"},
    )
    assert sent.status_code == 200
    message = Message.objects.get(chat=chat, direction=Direction.OUT)
    assert message.template == approved
    assert message.text == "Hi Carol, your order <1042> is on its way."


def test_an_opted_out_sms_contact_cannot_be_written_to(
    alice, sales, make_chat: ChatMaker, client_as: Clients
):
    sms = Channel.objects.create(kind=ChannelKind.SMS, name="SMS", department=sales)
    chat = make_chat("+27820000011", agent=alice)
    Chat.objects.filter(pk=chat.pk).update(channel=sms)
    chat.refresh_from_db()
    html = panel(client_as(alice), chat)
    assert "SMS · the contact has not opted out." in html
    ContactOptOut.objects.create(
        contact=chat.contact, channel=sms, keyword="STOP", created_at=clock.now()
    )
    html = panel(client_as(alice), chat)
    assert OPTED_OUT_NOTE.replace("'", "&#x27;") in html
    assert re.search(r'<textarea[^>]*name="text"[^>]*disabled', html, re.S)
    response = client_as(alice).post(f"/chats/{chat.pk}/panel/send/", {"text": "hi"})
    assert response.status_code == 409
    assert "opted out" in response.text
    assert not Message.objects.exists()


def test_an_unassigned_ticket_asks_an_agent_to_accept_it(
    alice, make_chat: ChatMaker, client_as: Clients
):
    ticket = make_chat("+27820000012", state="unassigned")
    ticket.department = alice.departments.first()
    ticket.save()
    html = panel(client_as(alice), ticket)
    assert "Accept the ticket before replying to it." in html
    assert 'name="text"' not in html


# --- Close and reopen --------------------------------------------------------------------------


def test_the_agent_closes_and_only_a_supervisor_or_that_agent_reopens(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000013", agent=alice)
    response = client_as(alice).post(f"/chats/{chat.pk}/panel/close/")
    assert response.status_code == 200
    assert Chat.objects.get(pk=chat.pk).status == ChatStatus.CLOSED
    assert "Live chat · closed" in response.text and "Reopen chat" in response.text
    again = client_as(sam).post(f"/chats/{chat.pk}/panel/close/")
    assert again.status_code == 409 and "This chat is already closed." in again.text
    reopened = client_as(sam).post(f"/chats/{chat.pk}/panel/reopen/")
    assert reopened.status_code == 200
    assert Chat.objects.get(pk=chat.pk).status == ChatStatus.OPEN


def test_actions_need_a_post_and_a_csrf_token(alice, make_chat: ChatMaker):
    chat = make_chat("+27820000014", agent=alice)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.get(f"/chats/{chat.pk}/panel/close/").status_code == 405
    assert strict.post(f"/chats/{chat.pk}/panel/close/").status_code == 403
    assert strict.post(f"/chats/{chat.pk}/panel/send/", {"text": "x"}).status_code == 403
    # The token of the page's one CSRF source, <body hx-headers>.
    html = strict.get(f"/chats/{chat.pk}/").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert token
    done = strict.post(f"/chats/{chat.pk}/panel/send/", {"text": "x"}, HTTP_X_CSRFTOKEN=token[1])
    assert done.status_code == 200


# --- Comments and mentions ---------------------------------------------------------------------


def test_a_supervisor_comments_and_the_mentioned_agent_is_notified(
    alice, bob, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000015", agent=alice)
    response = client_as(sam).post(
        f"/chats/{chat.pk}/panel/comments/",
        {"body": "@alice please check <b>this</b>, and @bob too"},
    )
    assert response.status_code == 200
    comment = Comment.objects.get(chat=chat)
    assert list(comment.mentions.all()) == [alice]  # bob cannot see alice's live chat
    html = response.text
    assert '<mark class="cdp-mention">@alice</mark>' in html
    assert "@bob" in html and '<mark class="cdp-mention">@bob' not in html
    assert "&lt;b&gt;this&lt;/b&gt;" in html and "Sam Supervisor" in html
    assert Notification.objects.filter(recipient=alice, chat=chat).count() == 1

    listing = client_as(alice).get(f"/chats/{chat.pk}/panel/comments/")
    assert "&lt;b&gt;this&lt;/b&gt;" in listing.text
    empty = client_as(sam).post(f"/chats/{chat.pk}/panel/comments/", {"body": " "})
    assert empty.status_code == 400 and "A comment cannot be empty." in empty.text


def test_mentionable_users_are_those_who_can_see_the_chat(
    alice, bob, dave, sam, ada, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000016", agent=alice)
    ticket = make_chat("+27820000017", state="unassigned")
    ticket.department = alice.departments.first()
    ticket.save()

    def names(chat: Chat, by: User, q: str = "") -> list[str]:
        response = client_as(by).get(f"/chats/{chat.pk}/panel/mentionable/", {"q": q})
        assert response.status_code == 200
        return [user["username"] for user in response.json()["users"]]

    assert names(chat, sam) == ["ada", "alice"]
    assert names(chat, sam, "al") == ["alice"]
    assert names(chat, sam, "@Alice A") == ["alice"]
    assert names(chat, sam, "zz") == []
    assert names(chat, alice, "s") == ["sam"]
    assert names(ticket, sam) == ["ada", "alice", "bob"]
    # The same people access.py lets see each chat.
    for each, by in ((chat, sam), (ticket, sam)):
        expected = sorted(
            user.username
            for user in User.objects.exclude(pk=by.pk)
            if access.visible_chats(user).filter(pk=each.pk).exists()
        )
        assert names(each, by) == expected
    assert client_as(dave).get(f"/chats/{chat.pk}/panel/mentionable/").status_code == 404


# --- The bell ----------------------------------------------------------------------------------


def test_the_bell_counts_unread_notifications_and_marks_them_read(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000018", name="Lindiwe Dube", agent=alice)
    as_alice = client_as(alice)
    page = as_alice.get(f"/chats/{chat.pk}/").text
    assert re.search(r'id="cdp-bell" data-bell-url="/notifications/bell/" data-bell-pending', page)
    empty = as_alice.get("/notifications/bell/").text
    assert re.search(r"data-bell-count hidden>0<", empty)
    assert "all caught up." in empty

    client_as(sam).post(f"/chats/{chat.pk}/panel/comments/", {"body": "@alice look"})
    client_as(sam).post(f"/chats/{chat.pk}/panel/comments/", {"body": "@alice again"})
    bell = as_alice.get("/notifications/bell/")
    assert bell.status_code == 200
    assert re.search(r"data-bell-count>2<", bell.text)
    assert 'aria-label="Notifications, 2 unread"' in bell.text
    assert f'href="/agent/?chat={chat.pk}"' in bell.text
    assert "Sam Supervisor mentioned you on the chat with Lindiwe Dube" in bell.text

    one = Notification.objects.filter(recipient=alice).first()
    assert one is not None
    assert as_alice.post(f"/notifications/{one.pk}/read/").status_code == 200
    assert re.search(r"data-bell-count>1<", as_alice.get("/notifications/bell/").text)
    assert client_as(sam).post(f"/notifications/{one.pk}/read/").status_code == 404

    done = as_alice.post("/notifications/read-all/")
    assert re.search(r"data-bell-count hidden>0<", done.text)
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()

    # A supervisor's notifications open the console.
    client_as(alice).post(f"/chats/{chat.pk}/panel/comments/", {"body": "@sam done"})
    assert f'href="/supervisor/?chat={chat.pk}"' in client_as(sam).get("/notifications/bell/").text


def test_every_signed_in_page_has_the_bell_and_the_panel_assets(
    alice, client_as: Clients, django_assert_max_num_queries: Any
):
    # The page renders the bell's shell at no database cost; panel.js fills it in.
    with django_assert_max_num_queries(0):
        shell = Template("{% load panel_tags %}{% notification_bell %}").render(Context({}))
    assert "data-bell-pending" in shell
    html = client_as(alice).get("/agent/").text
    assert 'id="cdp-bell"' in html
    assert "/static/web/panel.css" in html and "/static/web/panel.js" in html


def test_earlier_chats_of_the_contact_link_to_their_panels(
    alice, whatsapp: Channel, make_chat: ChatMaker, client_as: Clients
):
    old = make_chat("+27820000019", agent=alice, state="closed")
    Chat.objects.filter(pk=old.pk).update(channel=whatsapp)
    now = make_chat("+27820000019", agent=alice)
    html = panel(client_as(alice), now)
    assert f'hx-get="/chats/{old.pk}/panel/"' in html
    assert f'href="/chats/{old.pk}/"' in html


def test_a_template_may_be_chosen_while_free_text_is_allowed(
    alice, sandbox, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000031", agent=alice, state="closed")
    as_alice = client_as(alice)
    assert "Use a template" not in panel(as_alice, chat)  # no approved template yet
    template = WhatsAppTemplate.objects.create(
        channel=chat.channel, name="parcel_ready", body="Hi {{1}}, parcel ready.", status="approved"
    )
    html = panel(as_alice, Chat.objects.get(pk=chat.pk))
    assert 'name="text"' in html and "Use a template" in html
    picker = as_alice.get(f"/chats/{chat.pk}/panel/composer/", {"mode": "template"})
    assert "parcel_ready" in picker.text and "Write free text instead" in picker.text
    chosen = as_alice.get(f"/chats/{chat.pk}/panel/composer/", {"template_id": template.pk})
    assert re.findall(r'name="(var_\d+)"', chosen.text) == ["var_1"]
    sent = as_alice.post(
        f"/chats/{chat.pk}/panel/send/", {"template_id": template.pk, "var_1": "Lerato"}
    )
    assert sent.status_code == 200
    sent_text = Message.objects.get(chat=chat, direction=Direction.OUT).text
    assert sent_text == "Hi Lerato, parcel ready."


# --- What was written with a handover ----------------------------------------------------


def test_a_supervisors_note_reaches_the_receiver_and_the_agent_who_lost_the_chat_is_told(
    alice, bob, sam, make_chat: ChatMaker, client_as: Clients, online: Callable[..., User]
):
    chat = make_chat("+27820000031", name="Lindiwe Dube", agent=alice)
    online(bob)
    note = "VIP: <b>call</b> her back before five"
    client_as(sam).post(
        f"/chats/{chat.pk}/assign/",
        {"agent": bob.pk, "note": note, "seen_agent": alice.pk},
        headers={"HX-Request": "true"},
    )
    chat.refresh_from_db()
    assert chat.agent_id == bob.pk
    escaped = "VIP: &lt;b&gt;call&lt;/b&gt; her back before five"

    # Bob: the bell says who and shows the note; the panel shows it at its head and on
    # the timeline.
    bobs_bell = client_as(bob).get("/notifications/bell/").text
    assert "The chat with Lindiwe Dube was transferred to you by Sam Supervisor" in bobs_bell
    assert f'<span class="cdp-bell-note">&ldquo;{escaped}&rdquo;</span>' in bobs_bell
    bobs_panel = panel(client_as(bob), chat)
    head = '<p class="cdp-handover-note"><strong>Note from Sam Supervisor:</strong> '
    assert head + escaped + "</p>" in bobs_panel
    assert f'<blockquote class="cdp-event-note">{escaped}</blockquote>' in bobs_panel

    # Alice: told where her chat went, and the workspace says so instead of an error.
    alices_bell = client_as(alice).get("/notifications/bell/").text
    assert "Reassigned" in alices_bell
    assert "Sam Supervisor gave your chat with Lindiwe Dube to Bob Agent" in alices_bell
    told = Notification.objects.get(recipient=alice)
    assert (told.kind, told.actor_id, told.note) == ("reassigned", sam.pk, note)
    pane = client_as(alice).get(f"/agent/chats/{chat.pk}/open/", headers={"HX-Request": "true"})
    assert "Sam Supervisor transferred this chat to Bob Agent." in pane.text
    assert "alert-error" not in pane.text

    # The supervisor sees the note on the timeline too; a later handover without a note
    # leaves the panel's head without one.
    assert f'<blockquote class="cdp-event-note">{escaped}</blockquote>' in panel(
        client_as(sam), chat
    )
    online(alice)
    client_as(sam).post(f"/chats/{chat.pk}/assign/", {"agent": alice.pk})
    assert "cdp-handover-note" not in panel(client_as(alice), chat)
