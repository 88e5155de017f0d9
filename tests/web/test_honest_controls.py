"""Controls that say what they do: a disabled Send says why, "Open" shows and "Reopen"
reopens, "You" is only the viewer, a failed message has a Retry that queues the same row
again once, transcripts link addresses and take each text's direction, the 404 page and
the icon are the desk's, and a session that ends mid-chat comes back to the chat."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client
from django_tasks_db.models import DBTaskResult

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ContactOptOut,
    DeliveryStatus,
    Direction,
    Message,
)
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind
from tests.support import chat_factory
from tests.support.chats import ChatMaker

Clients = Callable[[User], Client]
HTMX = {"HX-Request": "true"}


def failed(chat: Chat, author: User, text: str = "Your order shipped") -> Message:
    return chat_factory.message(
        chat,
        direction=Direction.OUT,
        text=text,
        author=author,
        status=DeliveryStatus.FAILED,
        attempts=3,
        failed_at=clock.now(),
        error_code="500",
        error_reason="Gave up after 3 attempts: the provider is down.",
    )


# --- A disabled Send says why -------------------------------------------------------------


def test_an_opted_out_contacts_send_is_disabled_with_the_reason_beside_it(
    alice, sales, make_chat: ChatMaker, client_as: Clients
):
    sms = Channel.objects.create(kind=ChannelKind.SMS, name="SMS", department=sales)
    chat = make_chat("+27820000101", agent=alice)
    Chat.objects.filter(pk=chat.pk).update(channel=sms)
    ContactOptOut.objects.create(
        contact=chat.contact, channel=sms, keyword="STOP", created_at=clock.now()
    )
    html = client_as(alice).get(f"/chats/{chat.pk}/panel/").content.decode()
    button = re.search(r"<button[^>]*>Send</button>", html)
    assert button is not None
    assert "disabled" in button.group(0)
    assert f'aria-describedby="cdp-{chat.pk}-optout"' in button.group(0)
    assert f'id="cdp-{chat.pk}-optout"' in html
    assert "Sending is off: the contact opted out." in html


# --- One word per meaning -------------------------------------------------------------------


def test_a_closed_tickets_row_says_reopen_and_an_open_ones_says_open(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    closed = make_chat("+27820000102", state="ticket_closed")
    waiting = make_chat("+27820000103", state="unassigned")
    rows: dict[str, str] = {}
    for state in ("closed", "unassigned"):
        html = client_as(sam).get(f"/supervisor/?tab=tickets&state={state}").content.decode()
        rows.update(re.findall(r'data-chat-id="(\d+)">(.*?)</li>', html, re.S))
    assert ">Reopen</button>" in rows[str(closed.pk)]
    assert ">Open</button>" not in rows[str(closed.pk)]
    assert ">Open</button>" in rows[str(waiting.pk)]
    assert ">Reopen</button>" not in rows[str(waiting.pk)]


# --- "You" is the viewer only ---------------------------------------------------------------


def test_the_list_preview_says_you_only_for_the_viewers_own_message(
    alice, bob, make_chat: ChatMaker, client_as: Clients
):
    mine = make_chat("+27820000104", agent=alice)
    chat_factory.message(mine, direction=Direction.OUT, text="From me", author=alice)
    handed = make_chat("+27820000105", agent=alice)
    chat_factory.message(handed, direction=Direction.OUT, text="From Bob", author=bob)
    automatic = make_chat("+27820000106", agent=alice)
    chat_factory.message(automatic, direction=Direction.OUT, text="Thanks", is_automatic=True)
    html = client_as(alice).get("/agent/lists/").content.decode()
    who = dict(re.findall(r'<span class="chat-preview-who">([^<]*):</span> ([^<]*)</span>', html))
    assert {v: k for k, v in who.items()} == {
        "From me": "You",
        "From Bob": bob.name,
        "Thanks": "Desk",
    }


def test_the_transcript_says_you_only_for_the_viewers_own_messages(
    alice, bob, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000107", agent=alice)
    chat_factory.message(chat, direction=Direction.OUT, text="First", author=bob)
    chat_factory.message(chat, direction=Direction.OUT, text="Second", author=alice)
    html = client_as(alice).get(f"/chats/{chat.pk}/panel/transcript/").content.decode()
    authors = re.findall(r'<p class="cdp-msg-meta">\s*<span>([^<]*)</span>', html)
    assert authors == [bob.name, "You"]


# --- Retry a failed message -----------------------------------------------------------------


def test_retry_puts_the_same_failed_message_back_in_the_queue_once(
    alice, make_chat: ChatMaker, client_as: Clients, django_capture_on_commit_callbacks
):
    chat = make_chat("+27820000108", agent=alice)
    message = failed(chat, alice)
    as_alice = client_as(alice)
    html = as_alice.get(f"/chats/{chat.pk}/panel/").content.decode()
    url = f"/chats/{chat.pk}/panel/messages/{message.pk}/retry/"
    assert f'hx-post="{url}"' in html and ">Retry</button>" in html
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_alice.post(url, headers=HTMX)
    assert response.status_code == 200
    assert len(callbacks) == 2  # the delivery and the live event's numbering
    message.refresh_from_db()
    assert message.status == DeliveryStatus.QUEUED
    assert message.attempts == 0  # a fresh round of tries, as a new message gets
    assert message.error_reason == "" and message.failed_at is None
    assert Message.objects.filter(chat=chat).count() == 1
    (task,) = DBTaskResult.objects.filter(task_path__endswith="deliver_message")
    assert task.args_kwargs["args"] == [message.pk]
    assert ">Retry</button>" not in response.content.decode()
    # A second click finds it queued: refused, nothing queued twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = as_alice.post(url, headers=HTMX)
    assert again.status_code == 409
    assert "Only a failed message can be sent again" in again.content.decode()
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_message").count() == 1


def test_retry_over_the_api_and_who_may_retry(
    alice, bob, sam, make_chat: ChatMaker, client_as: Clients, django_capture_on_commit_callbacks
):
    chat = make_chat("+27820000109", agent=alice)
    message = failed(chat, alice)
    url = f"/api/v1/chats/{chat.pk}/messages/{message.pk}/retry"
    assert client_as(bob).post(url).status_code == 404
    refused = client_as(sam).post(url)
    assert refused.status_code == 403
    html = client_as(sam).get(f"/chats/{chat.pk}/panel/").content.decode()
    assert ">Retry</button>" not in html  # a supervisor never writes into a live chat
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_as(alice).post(url)
    assert answer.status_code == 200
    assert answer.json()["status"] == "queued" and answer.json()["id"] == message.pk
    assert client_as(alice).post(url).status_code == 409
    inbound = chat_factory.message(chat)
    missing = client_as(alice).post(f"/api/v1/chats/{chat.pk}/messages/{inbound.pk}/retry")
    assert missing.status_code == 404


# --- Transcripts: links and direction -------------------------------------------------------


def test_transcript_links_addresses_safely_and_every_text_takes_its_direction(
    alice, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000110", agent=alice)
    chat_factory.message(chat, text='See https://example.com/track?id=1&x=<b> "now"')
    chat_factory.message(chat, text="مرحبا <script>alert(1)</script>")
    html = client_as(alice).get(f"/chats/{chat.pk}/panel/transcript/").content.decode()
    assert (
        '<a href="https://example.com/track?id=1&amp;x=" target="_blank" '
        'rel="noopener noreferrer nofollow">https://example.com/track?id=1&amp;x=</a>'
    ) in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    texts = re.findall(r'<p class="cdp-msg-text"([^>]*)>', html)
    assert texts == [' dir="auto"', ' dir="auto"']


# --- The 404 page, the icon and the way back after sign-in ----------------------------------


def test_a_missing_page_is_the_desks_own_404(client, alice, client_as: Clients):
    for who in (client, client_as(alice)):
        response = who.get("/no-such-page/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "This page does not exist" in html
        assert 'href="/"' in html and "Go to your home page" in html
        assert 'rel="icon"' in html and "web/desk.css" in html


def test_the_favicon_is_linked_and_answered(client, alice, client_as: Clients):
    html = client_as(alice).get("/agent/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/web/favicon[^"]*\.svg"', html)
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200


def test_a_fragment_asked_for_after_the_session_ended_signs_in_back_to_its_page(
    client, alice, make_chat: ChatMaker
):
    chat = make_chat("+27820000111", agent=alice)
    response = client.post(
        f"/chats/{chat.pk}/panel/send/",
        {"text": "hi"},
        headers={**HTMX, "HX-Current-URL": f"http://testserver/agent/chats/{chat.pk}/"},
    )
    assert response["HX-Redirect"] == f"/login/?next=%2Fagent%2Fchats%2F{chat.pk}%2F"
    # Only a path of this site: never an address another site could take over.
    for current in ("https://evil.example//evil.example/x", "javascript:alert(1)"):
        elsewhere = client.get(
            f"/chats/{chat.pk}/panel/", headers={**HTMX, "HX-Current-URL": current}
        )
        assert elsewhere["HX-Redirect"] == "/login/"
