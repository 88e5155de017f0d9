"""A WhatsApp customer who hides their number behind a username writes; Alice sees them by
their name and username, answers, and the reply goes to Meta addressed to their
business-scoped user id (the fake Graph API on loopback records it)."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server, post_whatsapp_webhook
from tests.support.fakes import FakeGraph
from tests.support.live_pages import Stream, open_signed_in

BSUID = "ZA.7788990011223344"


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
    answer = post_whatsapp_webhook(server, channel_id, payload)
    assert answer["stored"] == 1, answer


def test_a_username_only_customer_is_answered_through_their_user_id(
    new_page: Callable[..., Page],
    server: Server,
    whatsapp_to_fake_graph: int,
    fake_graph: FakeGraph,
) -> None:
    agent = new_page(width=1366, height=768)
    open_signed_in(agent, "alice", "/agent/", Stream())
    post_username_message(server, whatsapp_to_fake_graph, "Hi, is my order ready?")

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
