"""A configuration fault never refuses a message: business hours stored with a time zone
the server does not know (written straight to the database, or by an older version that
did not check) are treated as always open, so the webhook still answers 200 and the
message becomes a chat routed as usual, and the fault is logged."""

from __future__ import annotations

import logging
from datetime import time

import pytest

from chatdesk.chats.models import Chat, Message
from chatdesk.providers.models import Channel
from chatdesk.routing import hours as hours_module
from chatdesk.routing.models import BusinessHours, WeeklyInterval
from tests.support.webhooks import post_twilio, post_whatsapp, sms_form, wa_payload, wa_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_reported_yet(monkeypatch):
    """Each test starts as a fresh process would: no fault logged yet."""
    monkeypatch.setattr(hours_module, "_reported", set(), raising=False)


def broken_hours(department=None, zone: str = "Mars/Olympus") -> BusinessHours:
    """Stored as an old version, or a hand-written SQL statement, would: no checks."""
    hours = BusinessHours.objects.create(department=department, timezone=zone)
    WeeklyInterval.objects.create(business_hours=hours, day=0, start=time(9), end=time(10))
    return hours


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "America", "../etc/passwd"])
def test_whatsapp_with_an_unknown_desk_time_zone_is_stored_and_routed(
    client, wa_channel, alice, zone, caplog
):
    broken_hours(zone=zone)
    with caplog.at_level(logging.WARNING, logger="chatdesk.routing.hours"):
        response = post_whatsapp(client, wa_channel, wa_payload(wa_text("Hello?", "wamid.TZ1")))
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 1
    message = Message.objects.get(provider_message_id="wamid.TZ1")
    chat = Chat.objects.get(pk=message.chat_id)
    # Treated as always open: Alice, on duty in the channel's department, has it live.
    assert (chat.kind, chat.agent) == ("chat", alice)
    assert any(repr(zone) in record.getMessage() for record in caplog.records), caplog.text


def test_sms_with_an_unknown_department_time_zone_becomes_a_ticket_when_nobody_is_free(
    client, sms_channel, sales, alice
):
    broken_hours(department=sales)
    alice.connections.all().delete()  # nobody online: a ticket, as in any open hour
    response = post_twilio(
        client, f"/webhooks/sms/{sms_channel.pk}", sms_form("Hi", "SM" + "7" * 32)
    )
    assert response.status_code == 200, response.content
    chat = Chat.objects.get(channel=sms_channel)
    assert (chat.kind, chat.ticket_state) == ("ticket", "unassigned")
    reply = Message.objects.get(chat=chat, direction="out", is_automatic=True)
    assert reply.text == sms_channel.nobody_available_reply  # open, so not "we're closed"


def test_the_fault_is_logged_once_not_for_every_message(client, wa_channel, caplog):
    broken_hours()
    with caplog.at_level(logging.WARNING, logger="chatdesk.routing.hours"):
        for n in range(3):
            sender = f"2782111000{n}"
            payload = wa_payload(wa_text("Hi", f"wamid.LOG{n}", sender=sender), wa_id=sender)
            assert post_whatsapp(client, wa_channel, payload).status_code == 200
    assert Chat.objects.filter(channel=wa_channel).count() == 3
    logged = [r for r in caplog.records if r.name == "chatdesk.routing.hours"]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert "The desk's business hours" in logged[0].getMessage()
    assert "always open" in logged[0].getMessage()


@pytest.mark.parametrize("stored", [["not", "an", "object"], "app-secret", 42])
def test_channel_secrets_stored_as_something_else_are_a_403_not_a_crash(client, wa_channel, stored):
    Channel.objects.filter(pk=wa_channel.pk).update(secrets=stored)
    response = post_whatsapp(client, wa_channel, wa_payload(wa_text("Hi", "wamid.SEC1")))
    # No secret to check the signature with: refused as any unsigned request is.
    assert response.status_code == 403, response.content
    assert not Message.objects.exists()
