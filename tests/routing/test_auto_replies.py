"""The automatic reply a new chat's contact gets is the one for its situation: out of
hours, the channel's out-of-hours reply; in hours with nobody to take the chat, its
nobody-available reply. Driven through the signed webhooks, delivered to the fake
providers on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import time_machine

from chatdesk.chats.models import Chat, Message
from chatdesk.providers.models import DEFAULT_NOBODY_AVAILABLE_REPLY, DEFAULT_OUT_OF_HOURS_REPLY
from chatdesk.providers.tasks import deliver
from chatdesk.routing.services import Interval, set_business_hours
from tests.support.webhooks import post_twilio, post_whatsapp, sms_form, wa_payload, wa_text

pytestmark = pytest.mark.django_db

# A Wednesday. The desk opens 08:00-17:00 UTC on weekdays.
IN_HOURS = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
OUT_OF_HOURS = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


@pytest.fixture
def weekday_hours(db: object) -> None:
    set_business_hours(
        department=None,
        timezone="UTC",
        weekly=[Interval(day=day, start=time(8), end=time(17)) for day in range(5)],
        exceptions=[],
        by=None,
    )


def automatic_reply(chat: Chat) -> Message:
    return Message.objects.get(chat=chat, direction="out", is_automatic=True)


def test_in_hours_with_nobody_online_whatsapp_hears_agents_are_busy_not_closed(
    client, wa_live, fake_graph, alice, weekday_hours
):
    # Alice, of the channel's department, is not online.
    with time_machine.travel(IN_HOURS, tick=False):
        response = post_whatsapp(client, wa_live, wa_payload(wa_text("Hi there", "wamid.IN1")))
    assert response.status_code == 200, response.content
    chat = Chat.objects.get(channel=wa_live)
    assert (chat.kind, chat.ticket_state) == ("ticket", "unassigned")
    reply = automatic_reply(chat)
    assert reply.text == wa_live.nobody_available_reply == DEFAULT_NOBODY_AVAILABLE_REPLY
    assert deliver(reply.pk) == "sent"
    assert [body["text"]["body"] for body in fake_graph.sent] == [DEFAULT_NOBODY_AVAILABLE_REPLY]


def test_out_of_hours_whatsapp_hears_closed_even_with_an_agent_online(
    client, wa_live, fake_graph, alice, online, weekday_hours
):
    with time_machine.travel(OUT_OF_HOURS, tick=False):
        online(alice)
        response = post_whatsapp(client, wa_live, wa_payload(wa_text("Hi there", "wamid.OUT1")))
    assert response.status_code == 200, response.content
    chat = Chat.objects.get(channel=wa_live)
    assert (chat.kind, chat.agent) == ("ticket", None)
    reply = automatic_reply(chat)
    assert reply.text == DEFAULT_OUT_OF_HOURS_REPLY
    assert deliver(reply.pk) == "sent"
    assert [body["text"]["body"] for body in fake_graph.sent] == [DEFAULT_OUT_OF_HOURS_REPLY]


def test_each_sms_channel_sends_its_own_wording_for_each_case(
    client, sms_live, fake_twilio, weekday_hours
):
    sms_live.out_of_hours_reply = "Closed until 08:00 UTC."
    sms_live.nobody_available_reply = "Everyone is with a customer; hold on."
    sms_live.save()
    path, token = f"/webhooks/sms/{sms_live.pk}", fake_twilio.auth_token
    with time_machine.travel(IN_HOURS, tick=False):
        busy = post_twilio(
            client, path, sms_form("Hi", "SM" + "1" * 32, "+27821110001"), token=token
        )
    with time_machine.travel(OUT_OF_HOURS, tick=False):
        closed = post_twilio(
            client, path, sms_form("Hi", "SM" + "2" * 32, "+27821110002"), token=token
        )
    assert (busy.status_code, closed.status_code) == (200, 200)
    for chat in Chat.objects.filter(channel=sms_live).order_by("pk"):
        assert deliver(automatic_reply(chat).pk) == "sent"
    assert [(sent["To"], sent["Body"]) for sent in fake_twilio.sent] == [
        ("+27821110001", "Everyone is with a customer; hold on."),
        ("+27821110002", "Closed until 08:00 UTC."),
    ]
