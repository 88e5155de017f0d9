"""The WhatsApp webhook end to end: handshake, signature, parsing, storing once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    TicketState,
)
from chatdesk.core import clock
from chatdesk.providers.models import ProviderEvent
from tests.support.webhooks import (
    VERIFY_TOKEN,
    post_whatsapp,
    wa_payload,
    wa_status,
    wa_text,
)


def test_handshake_echoes_the_challenge(wa_channel):
    response = Client().get(
        f"/webhooks/whatsapp/{wa_channel.pk}",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_handshake_refuses_a_wrong_token(wa_channel, query):
    response = Client().get(f"/webhooks/whatsapp/{wa_channel.pk}", query)
    assert response.status_code == 403
    assert response.content != b"1"


def test_unknown_channel_is_404(wa_channel, sms_channel):
    client = Client()
    assert client.get("/webhooks/whatsapp/99999", {"hub.mode": "subscribe"}).status_code == 404
    assert post_whatsapp(client, wa_channel, {}).status_code != 404
    # An SMS channel's id is not a WhatsApp channel.
    response = client.post(
        f"/webhooks/whatsapp/{sms_channel.pk}", b"{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "No WhatsApp channel has that id."


def test_a_text_starts_a_chat_with_the_provider_time(wa_channel):
    response = post_whatsapp(
        Client(), wa_channel, wa_payload(wa_text("Hello, my order?", "wamid.A1"))
    )
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 1
    message = Message.objects.get()
    assert (message.direction, message.text, message.provider_message_id) == (
        Direction.IN,
        "Hello, my order?",
        "wamid.A1",
    )
    assert message.status is None
    chat = message.chat
    assert chat.kind == ChatKind.CHAT and chat.status == "open"
    assert chat.department == wa_channel.department
    assert chat.last_inbound_at == datetime.fromtimestamp(1_764_000_000, tz=UTC)
    assert chat.agent is not None  # routed (tests/routing covers how)
    contact = Contact.objects.get()
    assert (contact.phone, contact.name) == ("+27821234567", "Carol Customer")
    assert list(ChatEvent.objects.filter(chat=chat).values_list("kind", flat=True)) == [
        "created",
        "assigned",
    ]


def test_the_same_webhook_twice_stores_once(wa_channel):
    payload = wa_payload(wa_text("Hi", "wamid.DUP"))
    first = post_whatsapp(Client(), wa_channel, payload)
    second = post_whatsapp(Client(), wa_channel, payload)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {
        "stored": 0,
        "duplicates": 1,
        "statuses": 0,
        "kept": 0,
        "notices": 0,
        "templates": 0,
    }
    assert Message.objects.count() == 1
    assert Chat.objects.count() == 1
    assert ChatEvent.objects.filter(kind="created").count() == 1


def test_later_messages_join_the_open_chat_and_a_late_one_never_moves_the_window_back(
    wa_channel,
):
    client = Client()
    post_whatsapp(
        client, wa_channel, wa_payload(wa_text("one", "wamid.1", timestamp=1_764_000_500))
    )
    post_whatsapp(
        client, wa_channel, wa_payload(wa_text("zero", "wamid.0", timestamp=1_764_000_100))
    )
    assert Chat.objects.count() == 1
    chat = Chat.objects.get()
    assert chat.messages.count() == 2
    assert chat.last_inbound_at == datetime.fromtimestamp(1_764_000_500, tz=UTC)


def test_a_message_joins_the_contacts_open_ticket(wa_channel, carol, alice):
    ticket = Chat.objects.create(
        kind=ChatKind.TICKET,
        ticket_state=TicketState.ASSIGNED,
        agent=alice,
        channel=wa_channel,
        contact=carol,
        created_at=clock.now(),
    )
    post_whatsapp(Client(), wa_channel, wa_payload(wa_text("still there?", "wamid.T")))
    assert Chat.objects.count() == 1
    assert Message.objects.get().chat == ticket


def test_several_messages_and_statuses_in_one_payload(wa_channel, alice):
    chat_payload = wa_payload(wa_text("first", "wamid.M1"), wa_text("second", "wamid.M2"))
    post_whatsapp(Client(), wa_channel, chat_payload)
    chat = Chat.objects.get()
    out = Message.objects.create(
        chat=chat,
        channel=wa_channel,
        direction=Direction.OUT,
        status=DeliveryStatus.SENT,
        provider_message_id="wamid.OUT",
        text="reply",
        created_at=clock.now(),
    )
    payload = wa_payload(
        wa_text("third", "wamid.M3"), statuses=[wa_status("wamid.OUT", "delivered")]
    )
    response = post_whatsapp(Client(), wa_channel, payload)
    assert response.json()["stored"] == 1 and response.json()["statuses"] == 1
    out.refresh_from_db()
    assert out.status == DeliveryStatus.DELIVERED
    assert out.delivered_at == datetime.fromtimestamp(1_764_000_100, tz=UTC)
    assert list(chat.messages.filter(direction="in").values_list("text", flat=True)) == [
        "first",
        "second",
        "third",
    ]


@pytest.mark.parametrize(
    "order",
    [
        ["sent", "delivered", "read"],
        ["read", "delivered", "sent"],
        ["delivered", "read", "sent", "delivered"],
        ["read", "failed"],
    ],
)
def test_status_never_moves_backward(wa_channel, carol, order):
    chat = Chat.objects.create(channel=wa_channel, contact=carol, created_at=clock.now())
    out = Message.objects.create(
        chat=chat,
        channel=wa_channel,
        direction=Direction.OUT,
        status=DeliveryStatus.QUEUED,
        provider_message_id="wamid.S",
        created_at=clock.now(),
    )
    for index, status in enumerate(order):
        extra = {"errors": [{"code": 131026, "title": "Message undeliverable"}]}
        row = wa_status(
            "wamid.S", status, 1_764_000_000 + index, **(extra if status == "failed" else {})
        )
        assert post_whatsapp(Client(), wa_channel, wa_payload(statuses=[row])).status_code == 200
    out.refresh_from_db()
    assert out.status == "read"


def test_failed_status_keeps_code_and_reason_and_131047_reads_as_the_window(wa_channel, carol):
    chat = Chat.objects.create(channel=wa_channel, contact=carol, created_at=clock.now())
    out = Message.objects.create(
        chat=chat,
        channel=wa_channel,
        direction=Direction.OUT,
        status=DeliveryStatus.SENT,
        provider_message_id="wamid.F",
        created_at=clock.now(),
    )
    failed = wa_status(
        "wamid.F",
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed"
                },
            }
        ],
    )
    post_whatsapp(Client(), wa_channel, wa_payload(statuses=[failed]))
    out.refresh_from_db()
    assert out.status == "failed"
    assert out.error_code == "131047"
    assert "24 hours" in out.error_reason and "template" in out.error_reason


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=", "sha256=deadbeef", "md5=abc"],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(wa_channel, signature):
    response = post_whatsapp(
        Client(), wa_channel, wa_payload(wa_text("x", "wamid.X")), signature=signature
    )
    assert response.status_code == 403
    assert "X-Hub-Signature-256" in response.json()["detail"]
    assert Message.objects.count() == Chat.objects.count() == Contact.objects.count() == 0


def test_a_single_tampered_byte_is_refused(wa_channel):
    body = json.dumps(wa_payload(wa_text("pay R100", "wamid.P"))).encode()
    from chatdesk.providers.adapters.whatsapp import signature_for
    from tests.support.webhooks import APP_SECRET

    signature = signature_for(body, APP_SECRET)
    tampered = body.replace(b"R100", b"R900")
    assert (
        post_whatsapp(Client(), wa_channel, None, raw=tampered, signature=signature).status_code
        == 403
    )
    truncated = signature[:-2]
    assert (
        post_whatsapp(Client(), wa_channel, None, raw=body, signature=truncated).status_code == 403
    )
    assert Message.objects.count() == 0
    assert (
        post_whatsapp(Client(), wa_channel, None, raw=body, signature=signature).status_code == 200
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"object": "page", "entry": []}', "whatsapp_business_account"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "list"),
        (
            b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
            b'"value":{"messages":{"id":"wamid.A"}}}]}]}',
            "'messages' must be a list",
        ),
    ],
)
def test_malformed_bodies_get_400_with_the_reason_and_store_nothing(wa_channel, raw, reason):
    response = post_whatsapp(Client(), wa_channel, None, raw=raw)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert Message.objects.count() == Chat.objects.count() == ProviderEvent.objects.count() == 0


def test_one_unreadable_item_is_kept_for_the_admins_and_the_rest_is_stored(wa_channel):
    no_id = wa_text("where is my order?", "wamid.X")
    del no_id["id"]
    not_a_phone = wa_text("hello", "wamid.NOTAPHONE", sender="carol")
    too_long = wa_text("hi", "wamid." + "9" * 200)
    payload = wa_payload(
        no_id,
        wa_text("the valid one", "wamid.GOOD"),
        not_a_phone,
        too_long,
        statuses=[{"status": "read", "timestamp": "1764000000"}],
    )
    response = post_whatsapp(Client(), wa_channel, payload)
    assert response.status_code == 200
    assert response.json() == {
        "stored": 1,
        "duplicates": 0,
        "statuses": 0,
        "kept": 4,
        "notices": 0,
        "templates": 0,
    }
    assert Message.objects.get().text == "the valid one"
    kept = {event.reason: event for event in ProviderEvent.objects.filter(channel=wa_channel)}
    assert sorted(kept) == sorted(
        [
            "a message has no 'id'",
            "a status has no 'id'",
            "the sender 'carol' is not a phone number",
            "the message's id is longer than 128 characters, which no provider sends",
        ]
    )
    assert kept["a message has no 'id'"].payload == no_id
    assert kept["a message has no 'id'"].kind == "unreadable"
    assert kept["the sender 'carol' is not a phone number"].provider_message_id == "wamid.NOTAPHONE"
    assert kept["the sender 'carol' is not a phone number"].payload["text"] == "hello"

    # Meta retries a webhook it thinks was lost: nothing is stored or kept twice.
    again = post_whatsapp(Client(), wa_channel, payload)
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1
    assert Message.objects.count() == 1
    assert ProviderEvent.objects.count() == 4


def test_media_is_kept_with_a_readable_summary(wa_channel):
    image = {
        "from": "27821234567",
        "id": "wamid.IMG",
        "timestamp": "1764000000",
        "type": "image",
        "image": {
            "caption": "Broken screen",
            "mime_type": "image/jpeg",
            "sha256": "abc",
            "id": "MEDIA1",
        },
    }
    post_whatsapp(Client(), wa_channel, wa_payload(image))
    message = Message.objects.get()
    assert message.content_type == "image"
    assert message.text == "[Photo] Broken screen"
    assert message.media["id"] == "MEDIA1"


def test_template_status_updates_change_the_template(wa_channel):
    from chatdesk.providers.models import Template

    template = Template.objects.create(
        channel=wa_channel, name="order_update", language="en_US", body="Hi {{1}}", status="pending"
    )
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": "APPROVED",
                            "message_template_id": 594425479261596,
                            "message_template_name": "order_update",
                            "message_template_language": "en_US",
                            "reason": "NONE",
                        },
                    }
                ],
            }
        ],
    }
    response = post_whatsapp(Client(), wa_channel, payload)
    assert response.status_code == 200 and response.json()["templates"] == 1
    template.refresh_from_db()
    assert template.status == "approved"
    assert Message.objects.count() == 0


def test_a_number_that_normalises_in_two_steps_keeps_one_conversation(wa_channel):
    """``27004489832`` loses one national prefix per parse (+2704489832, then +274489832):
    the conversation was looked up by one form and the contact stored by the other, so the
    second message opened a second chat beside the first and the webhook failed with 500,
    retried by Meta until it gave up."""
    client = Client()
    for n in (1, 2):
        payload = wa_payload(wa_text(f"message {n}", f"wamid.Z{n}", sender="27004489832"))
        response = post_whatsapp(client, wa_channel, payload)
        assert response.status_code == 200, response.content
        assert response.json()["stored"] == 1
    assert Contact.objects.count() == 1
    chat = Chat.objects.get()
    assert [m.text for m in chat.messages.order_by("pk")] == ["message 1", "message 2"]
