"""ChannelSender: a Channel row's config and secrets reach the right adapter, which
reaches the provider (here the fakes) over real HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatdesk.providers.adapters import sms, whatsapp
from chatdesk.providers.base import Outbound, OutboundTemplate, SendError
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.registry import ChannelSender, sender_for
from tests.support.fakes import FakeGraph, FakeTwilio

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


def whatsapp_channel(graph: FakeGraph, **config: Any) -> Channel:
    return Channel.objects.create(
        kind="whatsapp",
        name="WhatsApp",
        config={
            "phone_number_id": graph.phone_number_id,
            "graph_api_url": graph.url + "/v21.0",
            **config,
        },
        secrets={"access_token": graph.access_token, "app_secret": "s"},
    )


def sms_channel(twilio: FakeTwilio, **config: Any) -> Channel:
    return Channel.objects.create(
        kind="sms",
        name="SMS",
        config={
            "account_sid": twilio.account_sid,
            "from_number": twilio.from_number,
            "api_url": twilio.api_url,
            **config,
        },
        secrets={"auth_token": twilio.auth_token},
    )


def test_a_whatsapp_channel_sends_through_the_graph_api(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    channel = whatsapp_channel(fake_graph)
    outbound = Outbound(to_phone="+27821234567", text="Hello", reference="chatdesk-1")
    result = sender_for(channel).send(client, outbound)
    assert result.provider_message_id == fake_graph.issued[-1]
    request = fake_graph.last
    assert request.path == f"/v21.0/{fake_graph.phone_number_id}/messages"
    assert request.bearer == fake_graph.access_token
    assert request.json == whatsapp.request_body(outbound)


def test_a_whatsapp_template_goes_out_as_a_template(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    channel = whatsapp_channel(fake_graph)
    outbound = Outbound(
        to_phone="+27821234567",
        template=OutboundTemplate(name="order_update", language="en_US", variables=["Carol"]),
    )
    ChannelSender(channel).send(client, outbound)
    assert fake_graph.last.json["template"]["name"] == "order_update"


def test_a_whatsapp_channel_with_the_wrong_token_fails_for_good(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    channel = whatsapp_channel(fake_graph)
    channel.secrets = {"access_token": "revoked"}
    channel.save()
    with pytest.raises(SendError) as caught:
        sender_for(channel).send(client, Outbound(to_phone="+27821234567", text="Hi"))
    assert (caught.value.retryable, caught.value.code) == (False, "190")


def test_an_sms_channel_sends_through_twilio(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    channel = sms_channel(fake_twilio)
    callback = "https://desk.example.com/webhooks/sms/1/status?ref=chatdesk-5"
    outbound = Outbound(to_phone="+14155551234", text="Hello", status_callback_url=callback)
    result = sender_for(channel).send(client, outbound)
    assert result.provider_message_id == fake_twilio.issued[-1]
    request = fake_twilio.last
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.basic_auth == (fake_twilio.account_sid, fake_twilio.auth_token)
    assert request.form == {
        "To": "+14155551234",
        "From": fake_twilio.from_number,
        "Body": "Hello",
        "StatusCallback": callback,
    }


def test_an_sms_channel_passes_twilios_refusal_on(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    fake_twilio.reply(
        400,
        {
            "code": 21610,
            "message": "Attempt to send to unsubscribed recipient",
            "more_info": "https://www.twilio.com/docs/errors/21610",
            "status": 400,
        },
    )
    with pytest.raises(SendError) as caught:
        sender_for(sms_channel(fake_twilio)).send(
            client, Outbound(to_phone="+14155551234", text="Hi")
        )
    assert (caught.value.retryable, caught.value.code) == (False, "21610")


def test_a_sandbox_channel_needs_no_network() -> None:
    channel = Channel.objects.create(kind=ChannelKind.SANDBOX, name="Sandbox")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"the sandbox called {request.url}")

    with httpx.Client(transport=httpx.MockTransport(refuse)) as offline:
        first = sender_for(channel).send(offline, Outbound(to_phone="+27821234567", text="Hi"))
        second = sender_for(channel).send(offline, Outbound(to_phone="+27821234567", text="Hi"))
    assert first.provider_message_id.startswith("sandbox-")
    assert first.provider_message_id != second.provider_message_id


def test_without_urls_the_channels_call_meta_and_twilio() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "graph.facebook.com":
            return httpx.Response(
                200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]}
            )
        return httpx.Response(201, json={"sid": "SM" + "0" * 32, "status": "queued"})

    wa = Channel.objects.create(
        kind="whatsapp",
        name="WA",
        config={"phone_number_id": "106540352242922"},
        secrets={"access_token": "EAAG"},
    )
    text = Channel.objects.create(
        kind="sms",
        name="Text",
        config={"account_sid": "AC" + "1" * 32, "from_number": "+14155550100"},
        secrets={"auth_token": "tok"},
    )
    with httpx.Client(transport=httpx.MockTransport(answer)) as offline:
        assert sender_for(wa).send(offline, Outbound(to_phone="+1", text="a")).provider_message_id
        assert sender_for(text).send(offline, Outbound(to_phone="+1", text="b")).provider_message_id
    assert str(seen[0].url) == (f"{whatsapp.DEFAULT_GRAPH_API_URL}/106540352242922/messages")
    assert str(seen[0].url) == "https://graph.facebook.com/v21.0/106540352242922/messages"
    assert json.loads(seen[0].content)["text"] == {"preview_url": False, "body": "a"}
    assert str(seen[1].url) == (
        f"{sms.DEFAULT_API_URL}/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    )
    assert (
        seen[1].headers["Authorization"]
        == "Basic " + base64.b64encode(f"AC{'1' * 32}:tok".encode()).decode()
    )
