"""Pytest fixtures for the fake provider servers (``tests/support/fakes.py``).

Any test package can use them once ``tests/conftest.py`` has
``pytest_plugins = ["tests.support.fakes_plugin"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fakes import FakeGraph, FakeTwilio


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    """Meta's Graph API on loopback; ``fake_graph.graph_api_url`` is a channel's
    ``graph_api_url``, ``fake_graph.access_token`` its ``access_token``."""
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's Messages API on loopback; ``fake_twilio.api_url`` is a channel's
    ``api_url``, with ``fake_twilio.account_sid`` and ``fake_twilio.auth_token``."""
    with FakeTwilio() as fake:
        yield fake
