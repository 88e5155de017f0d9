"""Every message type Meta documents is readable in the transcript: orders, Flow replies,
referrals, replies with context, forwarded marks, unsupported types with Meta's reason,
edits (the original kept), revokes (the text for supervisors only), and what the business
sent from its phone (``smb_message_echoes``). Only the customer writing moves the window.

Payloads are written here in the shapes of Meta's WhatsApp Cloud API webhook reference
("messages" webhook: ``order``, ``interactive.nfm_reply``, ``referral``, ``context``,
``unsupported`` with ``errors``, ``edit`` and ``revoke`` with ``original_message_id``;
the ``smb_message_echoes`` field with ``message_echoes``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.test import Client

from chatdesk.chats.models import Chat, Direction, Message
from chatdesk.core import clock
from tests.support.webhooks import CAROL_WA, PHONE_NUMBER_ID, post_whatsapp, wa_payload, wa_text


def now_ts(later: int = 0) -> str:
    return str(int(clock.now().timestamp()) + later)


def message(kind: str, wamid: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"from": CAROL_WA, "id": wamid, "timestamp": now_ts(), "type": kind}
    if body is not None:
        row[kind] = body
    row.update(extra)
    return row


def first_message(wa_channel: Any, text: str = "hello", wamid: str = "wamid.FIRST") -> Message:
    post_whatsapp(Client(), wa_channel, wa_payload(wa_text(text, wamid, timestamp=int(now_ts()))))
    return Message.objects.get(provider_message_id=wamid)


def test_an_order_lists_its_items_quantities_and_prices(wa_channel):
    order = {
        "catalog_id": "1190286058223441",
        "text": "Gift wrap please",
        "product_items": [
            {
                "product_retailer_id": "SKU-RED-M",
                "quantity": "2",
                "item_price": "199.5",
                "currency": "ZAR",
            },
            {"product_retailer_id": "SKU-CAP", "quantity": 1, "item_price": 89, "currency": "ZAR"},
        ],
    }
    post_whatsapp(Client(), wa_channel, wa_payload(message("order", "wamid.ORDER", order)))
    stored = Message.objects.get()
    assert stored.content_type == "order"
    assert stored.text == (
        "[Order] 2 x SKU-RED-M at 199.5 ZAR; 1 x SKU-CAP at 89 ZAR. Gift wrap please"
    )
    assert stored.media["order"]["catalog_id"] == "1190286058223441"
    assert [i["product_retailer_id"] for i in stored.media["order"]["items"]] == [
        "SKU-RED-M",
        "SKU-CAP",
    ]


def test_a_flow_reply_shows_the_answers(wa_channel):
    reply = {
        "type": "nfm_reply",
        "nfm_reply": {
            "name": "flow",
            "body": "Sent",
            "response_json": json.dumps(
                {"flow_token": "secret-token", "order_number": "A-17", "reason": "late"}
            ),
        },
    }
    post_whatsapp(Client(), wa_channel, wa_payload(message("interactive", "wamid.FLOW", reply)))
    stored = Message.objects.get()
    assert stored.text == "[Form] Sent (order_number: A-17; reason: late)"
    assert stored.media["answers"] == {"order_number": "A-17", "reason": "late"}
    assert "secret-token" not in json.dumps(stored.media)


def test_a_customer_from_an_ad_brings_the_ad(wa_channel):
    referral = {
        "source_url": "https://fb.me/2ZuVXa",
        "source_id": "120214335431660425",
        "source_type": "ad",
        "headline": "Winter sale",
        "body": "20% off jackets",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0",
    }
    row = message("text", "wamid.AD", {"body": "Is the jacket in M?"}, referral=referral)
    post_whatsapp(Client(), wa_channel, wa_payload(row))
    stored = Message.objects.get()
    assert stored.text == "Is the jacket in M?"
    assert stored.media["referral"]["headline"] == "Winter sale"
    assert stored.media["referral"]["source_url"] == "https://fb.me/2ZuVXa"


def test_a_reply_links_the_quoted_message_and_forwarded_is_marked(wa_channel):
    quoted = first_message(wa_channel)
    reply = message(
        "text", "wamid.REPLY", {"body": "this one"}, context={"from": CAROL_WA, "id": "wamid.FIRST"}
    )
    forwarded = message(
        "text",
        "wamid.FWD",
        {"body": "look"},
        context={"forwarded": True, "frequently_forwarded": True},
    )
    unknown = message(
        "text", "wamid.UNK", {"body": "?"}, context={"from": CAROL_WA, "id": "wamid.GONE"}
    )
    post_whatsapp(Client(), wa_channel, wa_payload(reply, forwarded, unknown))
    by_id = {m.provider_message_id: m for m in Message.objects.all()}
    assert by_id["wamid.REPLY"].media["reply_to_message_id"] == quoted.pk
    assert by_id["wamid.FWD"].media["forwarded"] == "frequently"
    assert by_id["wamid.UNK"].media == {"reply_to": "wamid.GONE"}


def test_an_unsupported_type_says_metas_reason(wa_channel):
    errors = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    post_whatsapp(
        Client(), wa_channel, wa_payload(message("unsupported", "wamid.U", errors=errors))
    )
    stored = Message.objects.get()
    assert stored.content_type == "unsupported"
    assert stored.text == (
        "[Unsupported message] Message type unknown: Message type is currently not supported."
    )


def test_an_edit_changes_the_text_keeps_the_first_and_leaves_the_window(
    wa_channel, client_as, alice
):
    original = first_message(wa_channel, "I ordered size S")
    chat = original.chat
    window_from = chat.last_inbound_at
    edit = {
        "original_message_id": "wamid.FIRST",
        "message": {"type": "text", "text": {"body": "I ordered size M"}},
    }
    row = message("edit", "wamid.EDIT", edit, timestamp=now_ts(600))
    response = post_whatsapp(Client(), wa_channel, wa_payload(row))
    assert response.status_code == 200
    original.refresh_from_db()
    assert original.text == "I ordered size M"
    assert original.media["original_text"] == "I ordered size S"
    assert Message.objects.count() == 1
    chat.refresh_from_db()
    assert chat.last_inbound_at == window_from
    # Replayed: the first text stays the first.
    post_whatsapp(Client(), wa_channel, wa_payload(row))
    original.refresh_from_db()
    assert original.media["original_text"] == "I ordered size S"
    html = client_as(alice).get(f"/chats/{chat.pk}/").content.decode()
    assert "I ordered size M" in html and "Edited" in html
    assert "First written: I ordered size S" in html


def test_an_edit_of_a_message_the_desk_never_had_is_shown_on_its_own(wa_channel):
    first_message(wa_channel)
    edit = {
        "original_message_id": "wamid.NEVER",
        "message": {"type": "text", "text": {"body": "fixed"}},
    }
    post_whatsapp(Client(), wa_channel, wa_payload(message("edit", "wamid.EDIT2", edit)))
    shown = Message.objects.get(provider_message_id="wamid.EDIT2")
    assert (shown.text, shown.direction, shown.chat.pk) == (
        "fixed",
        Direction.IN,
        Chat.objects.get().pk,
    )


def test_a_revoked_message_is_shown_deleted_its_text_for_supervisors_only(
    wa_channel, client_as, api_as, alice, sam
):
    original = first_message(wa_channel, "my card number is 4111")
    row = message("revoke", "wamid.REVOKE", {"original_message_id": "wamid.FIRST"})
    post_whatsapp(Client(), wa_channel, wa_payload(row))
    original.refresh_from_db()
    assert original.media["revoked_at"]
    assert original.text == "my card number is 4111"
    page = f"/chats/{original.chat_id}/"
    agent_html = client_as(alice).get(page).content.decode()
    assert "The customer deleted this message." in agent_html
    assert "4111" not in agent_html
    supervisor_html = client_as(sam).get(page).content.decode()
    assert "The customer deleted this message." in supervisor_html
    assert "my card number is 4111" in supervisor_html
    messages = f"/chats/{original.chat_id}/messages"
    assert api_as(alice).get(messages).json()["items"][0]["text"] == ""
    assert api_as(sam).get(messages).json()["items"][0]["text"] == "my card number is 4111"
    # The lists' preview of the latest message says it was deleted, to everyone.
    agent_list = client_as(alice).get("/agent/").content.decode()
    assert "[Message deleted]" in agent_list and "4111" not in agent_list


def test_what_the_business_sent_from_its_phone_shows_as_the_business_phone(
    wa_channel, client_as, alice
):
    original = first_message(wa_channel)
    chat = original.chat
    window_from = chat.last_inbound_at
    echo = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "smb_message_echoes",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "message_echoes": [
                                {
                                    "from": "15550001111",
                                    "to": CAROL_WA,
                                    "id": "wamid.ECHO",
                                    "timestamp": now_ts(60),
                                    "type": "text",
                                    "text": {"body": "Sent from our shop phone"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    response = post_whatsapp(Client(), wa_channel, echo)
    assert response.json()["stored"] == 1
    shown = Message.objects.get(provider_message_id="wamid.ECHO")
    assert (shown.direction, shown.author_id, shown.chat_id) == (Direction.OUT, None, chat.pk)
    assert shown.media["from_business_phone"] is True
    chat.refresh_from_db()
    assert chat.last_inbound_at == window_from
    html = client_as(alice).get(f"/chats/{chat.pk}/").content.decode()
    assert "The business phone" in html and "Sent from our shop phone" in html


def test_only_the_customer_writing_moves_the_window(wa_channel):
    start = int(now_ts())
    first = wa_text("hello", "wamid.FIRST", timestamp=start)
    post_whatsapp(Client(), wa_channel, wa_payload(first))
    chat = Chat.objects.get()
    before = chat.last_inbound_at
    assert before is not None
    later = wa_text("a real message", "wamid.LATER", timestamp=start + 3600)
    post_whatsapp(Client(), wa_channel, wa_payload(later))
    chat.refresh_from_db()
    assert chat.last_inbound_at == before + timedelta(hours=1)
