"""The sandbox: a provider inside the desk, played by the customer simulator page.

Nothing crosses a network: a send is accepted at once with a fresh id, and the simulator
reads the desk's replies from the database.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from chatdesk.providers import keywords
from chatdesk.providers.base import InboundMessage, Outbound, SendResult


def parse(
    *,
    provider_message_id: str,
    from_phone: str,
    timestamp: datetime,
    text: str,
    contact_name: str = "",
    end_keyword: str = "",
) -> InboundMessage:
    """A text the simulator's customer typed, as a provider's parse gives it (its end
    keyword marked)."""
    message = InboundMessage(
        provider_message_id=provider_message_id,
        from_phone=from_phone,
        timestamp=timestamp,
        content_type="text",
        text=text,
        contact_name=contact_name,
    )
    return keywords.mark(message, end_keyword=end_keyword)


def render(outbound: Outbound) -> str:
    return outbound.text


def send(client: httpx.Client | None, outbound: Outbound) -> SendResult:
    return SendResult(provider_message_id=f"sandbox-{uuid.uuid4().hex}")
