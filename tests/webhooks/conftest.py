"""The webhook tests are about messages, not routing: a new chat goes to Alice. (The
channels with known secrets are fixtures of tests/conftest.py, built in
``tests.support.webhooks`` with the signed posts as Meta and Twilio send them.)"""

from __future__ import annotations

import pytest

from chatdesk.accounts.models import User


@pytest.fixture(autouse=True)
def alice_on_duty(alice_on_duty: User) -> User:
    return alice_on_duty
