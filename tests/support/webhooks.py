"""Channels with known secrets, and signed webhook posts as Meta and Twilio send them."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from chatdesk.chats.models import Chat, Contact, DeliveryStatus, Direction, Message
from chatdesk.core import clock
from chatdesk.providers.adapters import sms, whatsapp
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing.models import Department
from tests.support.fakes import FakeGraph, FakeTwilio

APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "verify-me"
AUTH_TOKEN = "twilio-auth-token"
PHONE_NUMBER_ID = "106540352242922"
CAROL_WA = "27821234567"


def whatsapp_channel(department: Department) -> Channel:
    """A WhatsApp channel with known secrets that sends nowhere (a closed port)."""
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp",
        department=department,
        config={"phone_number_id": PHONE_NUMBER_ID, "graph_api_url": "http://127.0.0.1:9/v21.0"},
        secrets={
            "access_token": "EAAG-token",
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
    )


def sms_channel(department: Department) -> Channel:
    """An SMS channel with a known auth token that sends nowhere (a closed port)."""
    return Channel.objects.create(
        kind=ChannelKind.SMS,
        name="SMS",
        department=department,
        config={
            "account_sid": "AC" + "1" * 32,
            "from_number": "+14155550100",
            "api_url": "http://127.0.0.1:9",
        },
        secrets={"auth_token": AUTH_TOKEN},
    )


def live_whatsapp_channel(department: Department, fake_graph: FakeGraph) -> Channel:
    """A WhatsApp channel that sends to the fake Graph API on loopback."""
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WA",
        department=department,
        config={
            "phone_number_id": fake_graph.phone_number_id,
            "graph_api_url": fake_graph.graph_api_url,
        },
        secrets={
            "access_token": fake_graph.access_token,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
    )


def live_sms_channel(department: Department, fake_twilio: FakeTwilio) -> Channel:
    """An SMS channel that sends to the fake Twilio API on loopback."""
    return Channel.objects.create(
        kind=ChannelKind.SMS,
        name="SMS",
        department=department,
        config={
            "account_sid": fake_twilio.account_sid,
            "from_number": "+14155550100",
            "api_url": fake_twilio.api_url,
        },
        secrets={"auth_token": fake_twilio.auth_token},
    )


def wa_payload(
    *messages: dict[str, Any],
    statuses: list[dict[str, Any]] | None = None,
    name: str = "Carol Customer",
    wa_id: str = CAROL_WA,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def wa_text(text: str, wamid: str, timestamp: int = 1_764_000_000, sender: str = CAROL_WA):
    return {
        "from": sender,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": text},
    }


def wa_status(wamid: str, status: str, timestamp: int = 1_764_000_100, **extra: Any):
    row = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": CAROL_WA}
    row.update(extra)
    return row


def post_whatsapp(
    client: Client,
    channel: Channel,
    payload: Any,
    *,
    secret: str = APP_SECRET,
    signature: str | None = None,
    raw: bytes | None = None,
):
    body = raw if raw is not None else json.dumps(payload).encode()
    header = signature if signature is not None else whatsapp.signature_for(body, secret)
    headers = {whatsapp.SIGNATURE_HEADER: header} if header else {}
    return client.post(
        f"/webhooks/whatsapp/{channel.pk}", body, content_type="application/json", headers=headers
    )


def post_twilio(
    client: Client,
    path: str,
    form: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    base: str = "http://testserver",
):
    signature = sms.signature_for(base + path, form, token)
    return client.post(path, form, headers={sms.SIGNATURE_HEADER: signature})


def sms_form(body: str, sid: str, sender: str = "+27821234567") -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "+14155550100",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def sent_message(channel: Channel, contact: Contact, provider_id: str, **fields: Any) -> Message:
    """An outbound message already handed to the provider, in a chat of its own."""
    chat = Chat.objects.filter(channel=channel, contact=contact, status="open").first()
    if chat is None:
        chat = Chat.objects.create(channel=channel, contact=contact, created_at=clock.now())
    values: dict[str, Any] = {"status": DeliveryStatus.SENT, "created_at": clock.now()}
    values.update(fields)
    return Message.objects.create(
        chat=chat,
        channel=channel,
        direction=Direction.OUT,
        provider_message_id=provider_id,
        **values,
    )
