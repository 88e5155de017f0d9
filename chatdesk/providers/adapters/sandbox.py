"""The sandbox: a provider inside the desk, played by the customer simulator page.

Nothing crosses a network: a send is accepted at once with a fresh id, and the simulator
reads the desk's replies from the database.
"""

from __future__ import annotations

import uuid

import httpx

from chatdesk.providers.base import Outbound, SendResult


def render(outbound: Outbound) -> str:
    return outbound.text


def send(client: httpx.Client | None, outbound: Outbound) -> SendResult:
    return SendResult(provider_message_id=f"sandbox-{uuid.uuid4().hex}")
