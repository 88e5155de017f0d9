"""The customer simulator at /simulator/: who the customer is, what they send, and what their
phone shows and does with the desk's replies — through the real URLs."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client

from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatStatus,
    ClosedBy,
    Contact,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
)
from chatdesk.chats.services.outbound import Reply
from chatdesk.core import clock
from chatdesk.flows.inbound import receive_message
from chatdesk.flows.outbound import send_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.tasks import deliver
from chatdesk.routing.models import BusinessHours
from chatdesk.web.simulator_views import SESSION_KEY
from tests.support.pages import csrf_token_of

CAROL = "+27821234567"
HTMX = {"HX-Request": "true"}
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def alice_on_duty(alice, online):
    """An agent is on duty, so the customer's first message starts a live chat with her
    (no out-of-hours ticket reply appears on the phone); routing is tested elsewhere."""
    return online(alice)


def as_customer(phone: str = CAROL, name: str = "Carol Customer") -> Client:
    client = Client(enforce_csrf_checks=True)
    session = client.session
    session[SESSION_KEY] = {"phone": phone, "name": name}
    session.save()
    return client


def send(client: Client, text: str, *, channel: Channel, key: str = "", htmx: bool = True):
    token = csrf_token_of(client.get(f"/simulator/?channel={channel.pk}").content.decode())
    data = {"csrfmiddlewaretoken": token, "channel": channel.pk, "text": text, "key": key}
    return client.post("/simulator/send/", data, headers=HTMX if htmx else {})


def fragment(client: Client, channel: Channel, **params: str):
    return client.get(
        "/simulator/conversation/", {"channel": str(channel.pk), **params}, headers=HTMX
    )


def look(client: Client, channel: Channel, **params: str):
    """The page's poll: the phone looked at its screen (a POST, since receipts move the
    desk's statuses)."""
    token = csrf_token_of(client.get(f"/simulator/?channel={channel.pk}").content.decode())
    return client.post(
        "/simulator/receipts/",
        {"channel": str(channel.pk), **params},
        headers={**HTMX, "X-CSRFToken": token},
    )


def since_of(html: str) -> str:
    match = re.search(r"""hx-vals='\{"since": "([0-9a-f]+)", "channel": "[0-9]+"\}'""", html)
    assert match, "the fragment carries no signature to poll with"
    return match.group(1)


def customer_says(channel: Channel, text: str, *, phone: str = CAROL, key: str) -> Message:
    message = receive_message(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"sim-{key}",
            from_phone=phone,
            timestamp=clock.now(),
            content_type="text",
            text=text,
            contact_name="Carol Customer",
        ),
    )
    assert message is not None
    return message


def desk_replies(chat: Chat, text: str, agent) -> Message:
    """An agent's reply, sent by the worker through the sandbox: status "sent"."""
    Chat.objects.filter(pk=chat.pk).update(agent=agent, queued_at=None)
    message = send_message(chat_id=chat.pk, reply=Reply(text=text), by=agent)
    assert deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SENT
    return message


# Who may open it


@pytest.mark.django_db
def test_without_a_sandbox_channel_the_page_is_a_friendly_404(client):
    Channel.objects.create(kind=ChannelKind.WHATSAPP, name="WhatsApp Sales")
    Channel.objects.create(kind=ChannelKind.SANDBOX, name="Old sandbox", is_active=False)
    response = client.get("/simulator/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "The customer simulator is not available" in html
    assert "An admin can add one" in html
    assert client.get("/simulator/conversation/").status_code == 200  # htmx: reload the page
    assert client.post("/simulator/send/", {"text": "hi"}).status_code == 404
    assert Message.objects.count() == 0


def test_anyone_may_open_it_and_is_asked_who_they_are_first(client, sandbox):
    response = client.get("/simulator/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Who are you?" in html
    assert '<label for="sim-phone">Phone number</label>' in html
    assert '<label for="sim-name">' in html
    assert "New customer" in html
    csrf_token_of(html)
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/web/simulator.js" in html
    assert response["Cache-Control"].startswith("max-age=0")
    # Every script comes from a file the app serves: none inline, none from elsewhere.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="/static/' in attrs and not body for attrs, body in scripts)
    assert re.search(r"\son[a-z]+=", html) is None
    assert "http://" not in html and "https://" not in html


def test_the_static_files_are_served_by_the_app(client, db):
    for path in (
        "/static/django_htmx/htmx-2.min.js",
        "/static/web/simulator.js",
        "/static/web/simulator.css",
    ):
        response = client.get(path)
        assert response.status_code == 200, path


# Who the customer is


def test_a_bad_number_gets_a_readable_error_and_nothing_is_kept(sandbox):
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_of(client.get("/simulator/").content.decode())
    response = client.post(
        "/simulator/identity/",
        {"csrfmiddlewaretoken": token, "channel": sandbox.pk, "phone": "12", "name": "Carol"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "is not a possible phone number" in html or "is not a phone number" in html
    assert "like +27821234567" in html
    assert 'aria-invalid="true"' in html
    assert 'value="12"' in html and 'value="Carol"' in html  # what was typed stays
    assert SESSION_KEY not in client.session
    assert Contact.objects.count() == 0


def test_a_good_number_is_kept_in_e164_and_shown_with_a_switch_link(sandbox):
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_of(client.get("/simulator/").content.decode())
    response = client.post(
        "/simulator/identity/",
        {
            "csrfmiddlewaretoken": token,
            "channel": sandbox.pk,
            "phone": "+27 82 123 4567",
            "name": "  Carol   Customer ",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/simulator/"
    assert client.session[SESSION_KEY] == {"phone": CAROL, "name": "Carol Customer"}
    html = client.get("/simulator/").content.decode()
    assert "Chatting as" in html
    assert "Carol Customer" in html and CAROL in html
    assert 'href="/simulator/?switch=1"' in html
    assert '<label for="sim-text" class="visually-hidden">Message</label>' in html
    assert Contact.objects.count() == 0  # nobody exists for the desk until they write

    switch = client.get("/simulator/?switch=1").content.decode()
    assert "Who are you?" in switch and f'value="{CAROL}"' in switch


def test_new_customer_without_javascript_fills_a_random_south_african_number(sandbox):
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_of(client.get("/simulator/").content.decode())
    response = client.post(
        "/simulator/identity/",
        {"csrfmiddlewaretoken": token, "channel": sandbox.pk, "new_customer": "1", "phone": ""},
    )
    assert response.status_code == 200
    assert re.search(r'value="\+2782\d{7}"', response.content.decode())
    assert SESSION_KEY not in client.session


# Sending


def test_send_stores_the_message_as_a_webhook_would_and_starts_a_chat(sandbox):
    client = as_customer()
    response = send(client, "Hello, is my order on its way?", channel=sandbox)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"simulator-sent": {}}
    assert 'id="sim-composer"' in response.content.decode()

    message = Message.objects.get()
    assert message.direction == Direction.IN
    assert message.text == "Hello, is my order on its way?"
    assert message.content_type == "text"
    assert re.fullmatch(r"sim-[0-9a-f]{32}", message.provider_message_id or "")
    assert message.provider_timestamp is not None
    chat = message.chat
    assert (chat.channel, chat.status, chat.kind) == (sandbox, ChatStatus.OPEN, "chat")
    assert (chat.contact.phone, chat.contact.name) == (CAROL, "Carol Customer")
    assert chat.department == sandbox.department
    assert ChatEvent.objects.filter(chat=chat, kind=EventKind.CREATED).exists()


def test_a_send_is_stored_and_routed_even_with_business_hours_in_an_unknown_zone(sandbox, alice):
    # Stored without the checks of the set-up pages (an older version, or SQL by hand).
    BusinessHours.objects.create(department=None, timezone="Mars/Olympus")
    response = send(as_customer(), "Hello?", channel=sandbox)
    assert response.status_code == 200
    chat = Message.objects.get().chat
    assert (chat.kind, chat.agent) == ("chat", alice)  # treated as always open


def test_more_messages_join_the_open_chat_and_a_resent_form_is_stored_once(sandbox):
    client = as_customer()
    key = "a" * 32
    assert send(client, "First", channel=sandbox, key=key).status_code == 200
    assert send(client, "First", channel=sandbox, key=key).status_code == 200  # double submit
    assert send(client, "Second", channel=sandbox).status_code == 200
    assert Contact.objects.count() == 1
    assert Chat.objects.count() == 1
    assert list(Message.objects.values_list("text", flat=True)) == ["First", "Second"]
    assert Message.objects.filter(provider_message_id=f"sim-{key}").count() == 1


def test_without_javascript_a_send_redirects_back_to_the_page(sandbox):
    client = as_customer()
    response = send(client, "Plain form", channel=sandbox, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == "/simulator/"
    assert Message.objects.get().text == "Plain form"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Type a message before sending."),
        ("   \n  ", "Type a message before sending."),
        ("x" * 4097, "A message can be at most 4096 characters; this one has 4097."),
    ],
)
def test_empty_or_too_long_text_is_refused_and_nothing_is_stored(sandbox, text, reason):
    client = as_customer()
    response = send(client, text, channel=sandbox)
    assert response.status_code == 422
    html = response.content.decode()
    assert reason in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert "HX-Trigger" not in response
    assert (Message.objects.count(), Chat.objects.count(), Contact.objects.count()) == (0, 0, 0)


def test_without_javascript_a_refused_send_shows_the_page_with_the_reason(sandbox):
    key = "b" * 32
    response = send(as_customer(), "  ", channel=sandbox, key=key, htmx=False)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Type a message before sending." in html
    assert "Chatting as" in html and f'name="key" value="{key}"' in html
    assert Message.objects.count() == 0


def test_a_message_of_exactly_4096_characters_is_accepted(sandbox):
    assert send(as_customer(), "y" * 4096, channel=sandbox).status_code == 200
    assert len(Message.objects.get().text) == 4096


def test_sending_before_choosing_who_you_are_is_refused(sandbox):
    client = Client(enforce_csrf_checks=True)
    response = send(client, "Who am I?", channel=sandbox)
    assert response.status_code == 422
    assert "Choose who you are" in response.content.decode()
    assert Message.objects.count() == 0


def test_sending_without_the_csrf_token_is_refused(sandbox):
    client = as_customer()
    response = client.post(
        "/simulator/send/", {"channel": sandbox.pk, "text": "forged"}, headers=HTMX
    )
    assert response.status_code == 403
    assert Message.objects.count() == 0


# What the phone shows


def test_the_conversation_shows_the_contacts_messages_in_order_and_escapes_them(
    sandbox, alice, sales
):
    first = customer_says(sandbox, "Hi, first chat", key="1" * 32)
    old_reply = desk_replies(first.chat, "Answer in the first chat", alice)
    Chat.objects.filter(pk=first.chat_id).update(
        status=ChatStatus.CLOSED, closed_at=clock.now(), closed_by=ClosedBy.AGENT
    )
    second = customer_says(sandbox, HOSTILE_SCRIPT, key="2" * 32)
    assert second.chat_id != first.chat_id
    desk_replies(second.chat, HOSTILE_IMG, alice)
    queued = send_message(chat_id=second.chat_id, reply=Reply(text="Not sent yet"), by=alice)
    # Someone else's messages, and Carol's on another channel, are not on this screen.
    customer_says(sandbox, "Dave's message", phone="+27820000001", key="3" * 32)
    other = Channel.objects.create(kind=ChannelKind.SANDBOX, name="Other", department=sales)
    customer_says(other, "On the other channel", key="4" * 32)

    response = fragment(as_customer(), sandbox)
    assert response.status_code == 200
    html = response.content.decode()
    order = [
        "Hi, first chat",
        "Answer in the first chat",
        "New conversation",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;img src=x onerror=alert(1)&gt;",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert HOSTILE_SCRIPT not in html and HOSTILE_IMG not in html
    assert "<script" not in html and "<img" not in html
    for absent in ("Not sent yet", "Dave's message", "On the other channel"):
        assert absent not in html
    assert f'data-message-id="{old_reply.pk}"' in html
    assert f'data-message-id="{queued.pk}"' not in html
    assert html.count("sim-bubble-mine") == 2 and html.count("sim-bubble-desk") == 2
    assert 'hx-trigger="every 1s, simulator-sent from:body"' in html


def test_the_page_shows_the_last_200_messages(sandbox):
    first = customer_says(sandbox, "message 000", key="0" * 32)
    start = clock.now()
    Message.objects.bulk_create(
        Message(
            chat=first.chat,
            channel=sandbox,
            direction=Direction.IN,
            text=f"message {n:03d}",
            provider_message_id=f"sim-bulk-{n}",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(1, 205)
    )
    html = fragment(as_customer(), sandbox).content.decode()
    assert html.count("sim-bubble-mine") == 200
    assert "message 004" not in html
    assert "message 005" in html and "message 204" in html
    assert html.index("message 005") < html.index("message 204")


def test_an_unchanged_conversation_answers_204_and_a_new_message_redraws_it(
    sandbox, django_assert_max_num_queries
):
    customer_says(sandbox, "Hello", key="5" * 32)
    client = as_customer()
    first = fragment(client, sandbox)
    assert first.status_code == 200
    since = since_of(first.content.decode())

    with django_assert_max_num_queries(3):  # the session, the channels, the message states
        unchanged = fragment(client, sandbox, since=since)
    assert unchanged.status_code == 204
    assert unchanged.content == b""
    assert "no-store" in unchanged["Cache-Control"]

    customer_says(sandbox, "Anyone there?", key="6" * 32)
    changed = fragment(client, sandbox, since=since)
    assert changed.status_code == 200
    assert "Anyone there?" in changed.content.decode()
    assert since_of(changed.content.decode()) != since


def test_the_page_and_the_fragment_sign_the_same_screen(sandbox):
    customer_says(sandbox, "Hello", key="7" * 32)
    client = as_customer()
    page = client.get("/simulator/").content.decode()
    assert fragment(client, sandbox, since=since_of(page)).status_code == 204


def test_looking_at_the_phone_delivers_then_reads_the_desks_messages(sandbox, alice):
    inbound = customer_says(sandbox, "Where is my parcel?", key="8" * 32)
    reply = desk_replies(inbound.chat, "It left the warehouse today.", alice)
    client = as_customer()

    # The phone gets it: delivered, shown with two grey ticks.
    html = look(client, sandbox).content.decode()
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED and reply.delivered_at is not None
    assert 'aria-label="Delivered"' in html
    since = since_of(html)

    # A hidden tab does not read it.
    assert look(client, sandbox, since=since, hidden="1").status_code == 204
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED

    # On screen at the next look: read, and the screen redraws with blue ticks.
    response = look(client, sandbox, since=since)
    assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.READ and reply.read_at is not None
    assert 'aria-label="Read"' in response.content.decode()
    assert look(client, sandbox, since=since_of(response.content.decode())).status_code == 204
    # What the phone posted, a read-only look shows the same.
    assert fragment(client, sandbox, since=since_of(response.content.decode())).status_code == 204


def test_reading_the_page_or_the_fragment_moves_no_status(sandbox, alice):
    inbound = customer_says(sandbox, "Where is my parcel?", key="a" * 32)
    reply = desk_replies(inbound.chat, "It left the warehouse today.", alice)
    client = as_customer()
    page = client.get(f"/simulator/?channel={sandbox.pk}")
    assert page.status_code == 200 and "It left the warehouse today." in page.content.decode()
    html = fragment(client, sandbox).content.decode()
    assert 'aria-label="Sent"' in html
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT and reply.delivered_at is None
    # A GET to the receipts is refused; only the POST moves statuses.
    assert client.get("/simulator/receipts/", {"channel": sandbox.pk}).status_code == 405
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT


def test_the_phones_receipts_need_the_csrf_token(sandbox, alice):
    inbound = customer_says(sandbox, "Hi", key="b" * 32)
    reply = desk_replies(inbound.chat, "Hello!", alice)
    response = as_customer().post("/simulator/receipts/", {"channel": sandbox.pk}, headers=HTMX)
    assert response.status_code == 403
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT


def test_a_queued_reply_reaches_the_phone_only_once_sent(sandbox, alice):
    inbound = customer_says(sandbox, "Hi", key="9" * 32)
    Chat.objects.filter(pk=inbound.chat_id).update(agent=alice)
    queued = send_message(chat_id=inbound.chat_id, reply=Reply(text="On its way"), by=alice)
    client = as_customer()
    html = look(client, sandbox).content.decode()
    assert "On its way" not in html
    queued.refresh_from_db()
    assert queued.status == DeliveryStatus.QUEUED  # the phone never touches unsent messages
    assert deliver(queued.pk) == "sent"
    assert "On its way" in look(client, sandbox, since=since_of(html)).content.decode()


def test_the_fragment_reloads_the_page_when_the_session_has_no_customer(sandbox):
    response = Client().get("/simulator/conversation/", {"channel": sandbox.pk}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    posted = Client().post("/simulator/receipts/", {"channel": sandbox.pk}, headers=HTMX)
    assert posted.status_code == 200
    assert posted["HX-Refresh"] == "true"


# Several sandbox channels


def test_several_sandbox_channels_offer_a_selector_defaulting_to_the_first(sandbox, sales):
    second = Channel.objects.create(kind=ChannelKind.SANDBOX, name="Second sandbox")
    client = as_customer()
    html = client.get("/simulator/").content.decode()
    assert '<label for="sim-channel">Sandbox channel</label>' in html
    assert f'<option value="{sandbox.pk}" selected>Sandbox</option>' in html
    assert f'<option value="{second.pk}">Second sandbox</option>' in html

    html = client.get(f"/simulator/?channel={second.pk}").content.decode()
    assert f'<option value="{second.pk}" selected>' in html
    assert send(client, "To the second", channel=second).status_code == 200
    assert Message.objects.get().channel == second

    assert client.get("/simulator/?channel=999999").status_code == 404
    assert client.get("/simulator/?channel=nonsense").status_code == 404


def test_one_sandbox_channel_needs_no_selector(sandbox):
    html = as_customer().get("/simulator/").content.decode()
    assert 'id="sim-channel"' not in html
