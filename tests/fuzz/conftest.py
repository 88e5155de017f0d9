"""Signed webhooks against the real views and database (a census of every table is in
``tests.support.census``)."""

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


@pytest.fixture(autouse=True)
def alice_on_duty(alice: Any, online: Any) -> Any:
    """A new chat goes to Alice (Sales, the channels' department), as in tests/messaging."""
    return online(alice)
