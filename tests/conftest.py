"""Shared fixtures: the personas of every test.

``alice`` and ``bob`` are agents in Sales, ``dave`` is an agent in Support, ``sam``
supervises, ``ada`` is the admin, ``carol`` is a customer. Their helpers live in
``tests.support.personas``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Role, User
from chatdesk.chats.models import Contact
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing import desk_zone
from chatdesk.routing.models import Department
from tests.support import webhooks
from tests.support.personas import ApiClient, make_online, make_user

pytest_plugins = ["tests.support.fakes_plugin", "tests.support.processes"]


@pytest.fixture(autouse=True)
def desk_zone_of_a_fresh_desk() -> Iterator[None]:
    """Each test starts on a desk with no business hours, so the desk's zone is UTC: what a
    process held from an earlier test (whose rows rolled back) is not carried over."""
    desk_zone.keep_desk_time_zone(desk_zone.UTC)
    yield
    desk_zone.keep_desk_time_zone(None)


@pytest.fixture
def sales(db: Any) -> Department:
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db: Any) -> Department:
    return Department.objects.create(name="Support")


@pytest.fixture
def alice(sales: Department) -> User:
    return make_user("alice", Role.AGENT, sales, display_name="Alice Agent")


@pytest.fixture
def bob(sales: Department) -> User:
    return make_user("bob", Role.AGENT, sales, display_name="Bob Agent")


@pytest.fixture
def dave(support: Department) -> User:
    return make_user("dave", Role.AGENT, support, display_name="Dave Support")


@pytest.fixture
def sam(db: Any) -> User:
    return make_user("sam", Role.SUPERVISOR, display_name="Sam Supervisor")


@pytest.fixture
def ada(db: Any) -> User:
    return make_user("ada", Role.ADMIN, display_name="Ada Admin")


@pytest.fixture
def carol(db: Any) -> Contact:
    return Contact.objects.create(phone="+27821234567", name="Carol Customer")


@pytest.fixture
def sandbox(db: Any, sales: Department) -> Channel:
    return Channel.objects.create(kind=ChannelKind.SANDBOX, name="Sandbox", department=sales)


@pytest.fixture
def token_for(db: Any) -> Callable[[User], str]:
    def make(user: User) -> str:
        return account_services.issue_api_token(user=user)

    return make


@pytest.fixture
def api_as(token_for: Callable[[User], str]) -> Callable[[User | None], ApiClient]:
    """``api_as(alice).get("/departments")``; ``api_as(None)`` is anonymous."""

    def make(user: User | None) -> ApiClient:
        return ApiClient(token_for(user) if user is not None else None)

    return make


@pytest.fixture
def client_as(db: Any) -> Callable[[User], Client]:
    """``client_as(alice)``: a test client with alice's session."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def online(db: Any) -> Callable[..., User]:
    """``online(alice, capacity=2)``: alice chose 'available' and has a live connection."""
    return make_online


# --- Channels with known secrets (tests.support.webhooks signs the posts to them) --------


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


@pytest.fixture
def alice_on_duty(alice: User, online: Callable[..., User]) -> User:
    """Alice (Sales, the channels' department) is online and available, so a new chat goes
    to her: for tests about messages, not routing (tests/routing covers that). Autouse in
    tests/webhooks and tests/fuzz; the message tests elsewhere ask for it by mark."""
    return online(alice)
