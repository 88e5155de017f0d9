"""The people of the tests, and how they reach the desk: a password every persona shares,
users made through the accounts service, agents put online, a bearer-token API client.

The fixtures in ``tests/conftest.py`` (``alice``, ``sam``, ``api_as``...) are built from
these."""

from __future__ import annotations

from typing import Any

from django.test import Client

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Connection, User
from chatdesk.core import clock
from chatdesk.routing.models import Department

PASSWORD = "correct-horse-battery"


def make_user(username: str, role: str, *departments: Department, display_name: str = "") -> User:
    return account_services.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        display_name=display_name or username.title(),
        department_ids=[d.pk for d in departments],
    )


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
