"""What an agent and a supervisor see of Meta's other message types: an order, a message the
customer edited (the first text behind "Edited"), one they deleted (its text for the
supervisor only), a reply to an earlier message, and what the business sent from its phone."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server, post_whatsapp_webhook
from tests.support.live_pages import Stream, open_signed_in

CUSTOMER = "27835550199"


def change(field: str, key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550001111"},
                            "contacts": [{"profile": {"name": "Sipho Order"}, "wa_id": CUSTOMER}],
                            key: rows,
                        },
                    }
                ],
            }
        ],
    }


def from_customer(wamid: str, kind: str, body: Any, **extra: Any) -> dict[str, Any]:
    row = {"from": CUSTOMER, "id": wamid, "timestamp": str(int(time.time())), "type": kind}
    row[kind] = body
    row.update(extra)
    return row


def test_orders_edits_deletions_replies_and_the_business_phone_read_as_a_person_expects(
    new_page: Callable[..., Page], server: Server, whatsapp_to_fake_graph: int
) -> None:
    channel = whatsapp_to_fake_graph
    # Alice's page is open, so she is online and routing gives her the customer's chat.
    agent = new_page(width=1366, height=900)
    open_signed_in(agent, "alice", "/agent/", Stream())
    tag = time.time_ns()
    first, secret = f"wamid.T1{tag}", f"wamid.T2{tag}"
    messages = [
        from_customer(first, "text", {"body": "I ordered size S"}),
        from_customer(secret, "text", {"body": "my card is 4111 1111"}),
        from_customer(
            f"wamid.T3{tag}",
            "order",
            {
                "catalog_id": "1190286058223441",
                "product_items": [
                    {
                        "product_retailer_id": "JACKET-M",
                        "quantity": "1",
                        "item_price": "899",
                        "currency": "ZAR",
                    }
                ],
            },
        ),
        from_customer(
            f"wamid.T4{tag}", "text", {"body": "this one"}, context={"from": CUSTOMER, "id": first}
        ),
    ]
    assert post_whatsapp_webhook(server, channel, change("messages", "messages", messages))[
        "stored"
    ] == len(messages)
    amend = [
        from_customer(
            f"wamid.T5{tag}",
            "edit",
            {
                "original_message_id": first,
                "message": {"type": "text", "text": {"body": "I ordered size M"}},
            },
        ),
        from_customer(f"wamid.T6{tag}", "revoke", {"original_message_id": secret}),
    ]
    post_whatsapp_webhook(server, channel, change("messages", "messages", amend))
    echo = {
        "from": "15550001111",
        "to": CUSTOMER,
        "id": f"wamid.T7{tag}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": "Packed and on its way (sent from the shop phone)"},
    }
    assert (
        post_whatsapp_webhook(
            server, channel, change("smb_message_echoes", "message_echoes", [echo])
        )["stored"]
        == 1
    )

    agent.get_by_role("region", name="Live chats").get_by_role("link").filter(
        has_text="Sipho Order"
    ).click()
    transcript = agent.get_by_role("log", name="Transcript")
    expect(transcript).to_contain_text("I ordered size M")
    expect(transcript).to_contain_text("[Order] 1 x JACKET-M at 899 ZAR")
    expect(transcript).to_contain_text("The customer deleted this message.")
    expect(transcript).not_to_contain_text("4111")
    expect(transcript.get_by_role("link", name="Reply to an earlier message")).to_be_visible()
    expect(transcript).to_contain_text("The business phone")
    expect(transcript).to_contain_text("Packed and on its way")
    edited = transcript.locator("details.cdp-msg-edited")
    edited.locator("summary").click()
    expect(edited).to_contain_text("First written: I ordered size S")
    agent.screenshot(path=f"{DOCS}/documented-types-agent.png", full_page=False)

    supervisor = new_page(width=1366, height=900)
    open_signed_in(supervisor, "sam", "/supervisor/", Stream())
    supervisor.get_by_role("region", name="Open chats").locator(".sv-row").filter(
        has_text="Sipho Order"
    ).locator(".sv-open").click()
    seen = supervisor.get_by_role("log", name="Transcript")
    expect(seen).to_contain_text("The customer deleted this message.")
    expect(seen).to_contain_text("my card is 4111 1111")
    supervisor.screenshot(path=f"{DOCS}/documented-types-supervisor.png", full_page=False)
