"""Signed webhooks against the real views and database (the channels are fixtures of
tests/conftest.py; a census of every table is in ``tests.support.census``)."""

from __future__ import annotations

import pytest

from chatdesk.accounts.models import User


@pytest.fixture(autouse=True)
def alice_on_duty(alice_on_duty: User) -> User:
    """A new chat goes to Alice (Sales, the channels' department), as in tests/webhooks."""
    return alice_on_duty
