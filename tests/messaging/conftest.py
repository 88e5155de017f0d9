"""Channels with known secrets (built in ``tests.support.webhooks``, with the signed
webhook posts as Meta and Twilio send them)."""

from __future__ import annotations

from typing import Any

import pytest

from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
from tests.support import webhooks


@pytest.fixture
def wa_channel(db: Any, sales: Department) -> Channel:
    return webhooks.whatsapp_channel(sales)


@pytest.fixture
def sms_channel(db: Any, sales: Department) -> Channel:
    return webhooks.sms_channel(sales)


@pytest.fixture
def wa_live(sales: Department, fake_graph: Any) -> Channel:
    """A WhatsApp channel that sends to the fake Graph API on loopback."""
    return webhooks.live_whatsapp_channel(sales, fake_graph)


@pytest.fixture
def sms_live(sales: Department, fake_twilio: Any) -> Channel:
    """An SMS channel that sends to the fake Twilio API on loopback."""
    return webhooks.live_sms_channel(sales, fake_twilio)


@pytest.fixture(autouse=True)
def alice_on_duty(alice: Any, online: Any) -> Any:
    """Alice (Sales, the channels' department) is online and available, so a new chat goes
    to her: these tests are about messages, not routing (tests/routing covers that)."""
    return online(alice)
