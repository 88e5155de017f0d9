"""Webhook bodies as Meta sends them, for the load generators (and the chaos tests)."""

from __future__ import annotations

import json
import time


def text_webhook(message_id: str, sender: str, text: str, *, phone_number_id: str) -> bytes:
    """One customer's text message to the number ``phone_number_id`` in a webhook body,
    as Meta documents it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": f"Customer {sender[-4:]}"}, "wa_id": sender}],
        "messages": [
            {
                "from": sender,
                "id": message_id,
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(payload, separators=(",", ":")).encode()
