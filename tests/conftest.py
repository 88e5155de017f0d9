"""Shared fixtures: the personas of every test.

``alice`` and ``bob`` are agents in Sales, ``dave`` is an agent in Support, ``sam``
supervises, ``ada`` is the admin, ``carol`` is a customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Connection, Role, User
from chatdesk.chats.models import Contact
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing.models import Department

pytest_plugins = ["tests.fakes_plugin", "tests.processes"]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def sales(db: Any) -> Department:
    return Department.objects.create(name="Sales")


@pytest.fixture
def support(db: Any) -> Department:
    return Department.objects.create(name="Support")


def _user(username: str, role: str, *departments: Department, display_name: str = "") -> User:
    return account_services.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        display_name=display_name or username.title(),
        department_ids=[d.pk for d in departments],
    )


@pytest.fixture
def alice(sales: Department) -> User:
    return _user("alice", Role.AGENT, sales, display_name="Alice Agent")


@pytest.fixture
def bob(sales: Department) -> User:
    return _user("bob", Role.AGENT, sales, display_name="Bob Agent")


@pytest.fixture
def dave(support: Department) -> User:
    return _user("dave", Role.AGENT, support, display_name="Dave Support")


@pytest.fixture
def sam(db: Any) -> User:
    return _user("sam", Role.SUPERVISOR, display_name="Sam Supervisor")


@pytest.fixture
def ada(db: Any) -> User:
    return _user("ada", Role.ADMIN, display_name="Ada Admin")


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


class ApiClient:
    """A JSON client for /api/v1 that authenticates with a bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        url = "/api/v1" + path
        func = getattr(self.client, method)
        if method in {"get", "delete"}:
            return func(url, query or None, headers=self.headers)
        return func(url, body, content_type="application/json", headers=self.headers)

    def get(self, path: str, **query: Any) -> Any:
        return self._call("get", path, **query)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("post", path, body if body is not None else {})

    def put(self, path: str, body: Any = None) -> Any:
        return self._call("put", path, body if body is not None else {})

    def patch(self, path: str, body: Any = None) -> Any:
        return self._call("patch", path, body if body is not None else {})


@pytest.fixture
def api_as(token_for: Callable[[User], str]) -> Callable[[User | None], ApiClient]:
    """``api_as(alice).get("/departments")``; ``api_as(None)`` is anonymous."""

    def make(user: User | None) -> ApiClient:
        return ApiClient(token_for(user) if user is not None else None)

    return make


_connections = iter(range(1, 1_000_000))


def make_online(user: User, *, capacity: int | None = None) -> User:
    """The agent chose 'available' and has one live connection."""
    user.presence = "available"
    if capacity is not None:
        user.capacity = capacity
    user.save()
    Connection.objects.create(
        user=user,
        channel_name=f"test.{user.pk}.{next(_connections)}",
        opened_at=clock.now(),
        last_seen_at=clock.now(),
    )
    return user


@pytest.fixture
def online(db: Any) -> Callable[..., User]:
    """``online(alice, capacity=2)``: alice chose 'available' and has a live connection."""
    return make_online
