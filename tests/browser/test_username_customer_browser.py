"""A WhatsApp customer who hides their number behind a username writes; Alice sees them by
their name and username, answers, and the reply goes to Meta addressed to their
business-scoped user id (the fake Graph API on loopback records it)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from chatdesk.providers.adapters import whatsapp
from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server
from tests.support.fakes import FakeGraph
from tests.support.live_pages import Stream, open_signed_in

APP_SECRET = "username-test-app-secret"
BSUID = "ZA.7788990011223344"

CHANNEL = """
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
channel = Channel.objects.create(
    kind="whatsapp", name="WhatsApp Usernames", department=Department.objects.get(name="Sales"),
    config={{"phone_number_id": {phone_number_id!r}, "graph_api_url": {graph_api_url!r}}},
    secrets={{"access_token": {access_token!r}, "app_secret": {app_secret!r},
             "verify_token": "v"}},
)
print(channel.pk)
"""

FORGET = """
from chatdesk.chats.models import Chat, Contact
from chatdesk.providers.models import Channel
Chat.objects.filter(channel_id={channel_id}).delete()
Contact.objects.filter(provider_user_id={bsuid!r}).delete()
Channel.objects.filter(pk={channel_id}).delete()
"""


@pytest.fixture
def username_channel(server: Server, fake_graph: FakeGraph) -> Iterator[int]:
    out = server.chatdesk(
        "shell",
        "-c",
        CHANNEL.format(
            phone_number_id=fake_graph.phone_number_id,
            graph_api_url=fake_graph.graph_api_url,
            access_token=fake_graph.access_token,
            app_secret=APP_SECRET,
        ),
    )
    channel_id = int(out.strip().splitlines()[-1])
    yield channel_id
    server.chatdesk("shell", "-c", FORGET.format(channel_id=channel_id, bsuid=BSUID))


def post_username_message(server: Server, channel_id: int, text: str) -> None:
    """Meta's messages webhook for a user who withholds their number: ``from_user_id`` and
    ``contacts[].user_id`` with ``profile.username``, no ``from`` and no ``wa_id``."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550001111"},
                            "contacts": [
                                {
                                    "profile": {"name": "Naledi", "username": "@naledi.k"},
                                    "user_id": BSUID,
                                }
                            ],
                            "messages": [
                                {
                                    "from_user_id": BSUID,
                                    "id": f"wamid.USERNAME{time.time_ns()}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{server.url}/webhooks/whatsapp/{channel_id}",
        content=body,
        headers={
            "Content-Type": "application/json",
            whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, APP_SECRET),
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1, response.text


def test_a_username_only_customer_is_answered_through_their_user_id(
    new_page: Callable[..., Page],
    server: Server,
    username_channel: int,
    fake_graph: FakeGraph,
) -> None:
    agent = new_page(width=1366, height=768)
    open_signed_in(agent, "alice", "/agent/", Stream())
    post_username_message(server, username_channel, "Hi, is my order ready?")

    row = (
        agent.get_by_role("region", name="Live chats").get_by_role("link").filter(has_text="Naledi")
    )
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("@naledi.k")
    row.click()
    panel = agent.locator("#chat-panel")
    expect(panel.locator(".cdp-phone")).to_have_text("@naledi.k")
    expect(panel.get_by_role("log", name="Transcript")).to_contain_text("Hi, is my order ready?")

    box = agent.get_by_role("textbox", name="Message")
    box.fill("Yes, Naledi: collect it from 14:00")
    box.press("Enter")
    expect(panel.locator(".cdp-msg-out")).to_contain_text("collect it from 14:00")

    deadline = time.monotonic() + 15
    while not fake_graph.sent and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake_graph.sent, "the worker sent nothing to the Graph API"
    sent = fake_graph.sent[-1]
    assert sent["recipient"] == BSUID
    assert "to" not in sent
    assert sent["text"]["body"] == "Yes, Naledi: collect it from 14:00"

    agent.screenshot(path=f"{DOCS}/username-customer-1366.png", full_page=False)
    panel.get_by_role("tab", name="Contact").click()
    contact = panel.get_by_role("tabpanel")
    expect(contact).to_contain_text("Not shared")
    expect(contact).to_contain_text("@naledi.k")
    expect(contact).to_contain_text(BSUID)
    agent.screenshot(path=f"{DOCS}/username-customer-contact-1366.png", full_page=False)
