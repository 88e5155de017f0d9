"""Who may do what, route by route: every URL the resolver knows (pages, fragments, the
set-up pages, webhooks), every operation of the API (from its OpenAPI schema) and every
group of live events, each tried as five people: anonymous, an agent (alice, Sales), an
agent of another department (dave, Support), a supervisor and an admin. The objects
tried are alice's: her chat in Sales, her notification, Sales' channel.

The expected outcome of each is written in the tables below. A route that is not in a
table fails ``test_every_route_is_in_the_matrix``: a new route needs its row."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Connection, Role, User
from chatdesk.api.api import api
from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    Contact,
    ContactOptOut,
    Direction,
    Message,
    Notification,
)
from chatdesk.chats.services.comments import add_comment
from chatdesk.core import clock
from chatdesk.providers.models import Channel, ChannelKind, ProviderEvent, Template
from chatdesk.routing.models import BusinessHours, Department
from chatdesk.web.admin_site import setup_site
from tests.support.live import connect, customer_writes, frames, run
from tests.support.personas import make_online

ROLES = ("anonymous", "agent", "other_agent", "supervisor", "admin")

# Outcomes, by status code:
#   ok     2xx                  login  302 to /login/ (pages), 401 (API), htmx redirect
#   403    refused with a reason    404    not found (or not theirs to know of)
#   405    method not allowed       409    the state forbids it (refused after access)
#   302    a redirect elsewhere     400    bad input (after access was granted)
# A row's expectations are five words in ROLES order.


def outcome(response: Any) -> str:
    status = response.status_code
    if status in (401,):
        return "login"
    if status == 302 and response["Location"].startswith("/login/"):
        return "login"
    if response.headers.get("HX-Redirect", "").startswith("/login/"):
        return "login"
    if 200 <= status < 300:
        return "ok"
    return str(status)


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # as the resolver (pages) or the OpenAPI schema (API) spells it
    expected: str
    path: str = ""  # the concrete path, when the route has parameters
    data: dict[str, Any] | None = None
    htmx: bool = False

    def expectations(self) -> dict[str, str]:
        words = self.expected.split()
        assert len(words) == len(ROLES), self
        return dict(zip(ROLES, words, strict=True))


# --- Pages, fragments and webhooks (session sign-in) ------------------------------------
#
# {chat} is alice's open chat in Sales, {notification} her notification, {channel} the
# Sales sandbox, {whatsapp} a WhatsApp channel (its webhook checks signatures, not users).

R = Row
PAGES: list[Row] = [
    # method route (resolver's spelling)              anon  agent other sup  admin
    R("GET", "healthz", "ok ok ok ok ok"),
    R("POST", "healthz", "405 405 405 405 405"),
    R("GET", "readyz", "ok ok ok ok ok"),
    R("POST", "readyz", "405 405 405 405 405"),
    # The icon is the same for everyone: a permanent redirect to the static SVG.
    R("GET", "favicon.ico", "301 301 301 301 301"),
    R("GET", "api/docs", "302 302 302 302 302"),
    R("GET", "api/v1/", "404 404 404 404 404"),
    R("GET", "api/v1/openapi.json", "ok ok ok ok ok"),
    R("GET", "api/v1/docs", "ok ok ok ok ok"),
    # Webhooks answer to signatures, not to users.
    R(
        "GET",
        "webhooks/whatsapp/<int:channel_id>",
        "403 403 403 403 403",
        "webhooks/whatsapp/{whatsapp}",
    ),
    R(
        "POST",
        "webhooks/whatsapp/<int:channel_id>",
        "403 403 403 403 403",
        "webhooks/whatsapp/{whatsapp}",
    ),
    R("POST", "webhooks/sms/<int:channel_id>", "403 403 403 403 403", "webhooks/sms/{sms}"),
    R("GET", "webhooks/sms/<int:channel_id>", "405 405 405 405 405", "webhooks/sms/{sms}"),
    R(
        "POST",
        "webhooks/sms/<int:channel_id>/status",
        "403 403 403 403 403",
        "webhooks/sms/{sms}/status",
    ),
    R(
        "GET",
        "webhooks/sms/<int:channel_id>/status",
        "405 405 405 405 405",
        "webhooks/sms/{sms}/status",
    ),
    R("GET", "", "login 302 302 302 302"),
    R("POST", "", "405 405 405 405 405"),
    R("GET", "login/", "ok 302 302 302 302"),
    R("POST", "login/", "ok 302 302 302 302", data={"username": "x", "password": "y"}),
    R("GET", "logout/", "login ok ok ok ok"),
    R("POST", "logout/", "login login login login login"),
    # Everyone's own time zone.
    R("GET", "account/time-zone/", "login ok ok ok ok"),
    R("POST", "account/time-zone/", "login 302 302 302 302", data={"time_zone": "Asia/Tokyo"}),
    # The agent workspace: agents only.
    R("GET", "agent/", "login ok ok 403 403"),
    R("POST", "agent/", "405 405 405 405 405"),
    R("GET", "agent/lists/", "login ok ok 403 403", htmx=True),
    R("GET", "agent/presence/", "login ok ok 403 403", htmx=True),
    R("POST", "agent/presence/", "login ok ok 403 403", data={"status": "away"}, htmx=True),
    R("POST", "agent/tickets/accept/", "login ok ok 403 403", htmx=True),
    R("GET", "agent/tickets/accept/", "405 405 405 405 405"),
    R("GET", "agent/chats/<int:chat_id>/", "login ok 404 403 403", "agent/chats/{chat}/"),
    R(
        "GET",
        "agent/chats/<int:chat_id>/open/",
        # 200 with a sentence, so htmx shows it: see the test after the tables.
        "login ok ok 403 403",
        "agent/chats/{chat}/open/",
        htmx=True,
    ),
    R(
        "POST",
        "agent/chats/<int:chat_id>/read/",
        "login ok 404 403 403",
        "agent/chats/{chat}/read/",
        htmx=True,
    ),
    R("GET", "agent/chats/<int:chat_id>/read/", "405 405 405 405 405", "agent/chats/{chat}/read/"),
    # The supervisor console: supervisors and admins.
    R("GET", "supervisor/", "login 403 403 ok ok"),
    R("GET", "supervisor/chats/<int:chat_id>/", "login 403 403 ok ok", "supervisor/chats/{chat}/"),
    R("GET", "supervisor/lists/", "login 403 403 ok ok", htmx=True),
    R("GET", "supervisor/team/", "login 403 403 ok ok", htmx=True),
    R("POST", "supervisor/tickets/action/", "login 403 403 ok ok", htmx=True),
    R("GET", "supervisor/tickets/action/", "405 405 405 405 405"),
    R("GET", "supervisor/tickets/assign/", "login 403 403 ok ok", htmx=True),
    R("POST", "supervisor/tickets/assign/", "login 403 403 ok ok", htmx=True),
    # The assign dialog: the chat's agent (transfers) and those who oversee.
    R(
        "GET",
        "chats/<int:chat_id>/assign/",
        "login ok 404 ok ok",
        "chats/{chat}/assign/",
        htmx=True,
    ),
    R(
        "POST",
        "chats/<int:chat_id>/assign/",
        "login ok 404 ok ok",
        "chats/{chat}/assign/",
        htmx=True,
    ),
    # The chat panel: whoever may see the chat.
    R("GET", "chats/<int:chat_id>/", "login ok 404 ok ok", "chats/{chat}/"),
    R("POST", "chats/<int:chat_id>/", "405 405 405 405 405", "chats/{chat}/"),
    R("GET", "chats/<int:chat_id>/panel/", "login ok 404 ok ok", "chats/{chat}/panel/", htmx=True),
    R(
        "GET",
        "chats/<int:chat_id>/panel/transcript/",
        "login ok 404 ok ok",
        "chats/{chat}/panel/transcript/",
        htmx=True,
    ),
    R(
        "GET",
        "chats/<int:chat_id>/panel/composer/",
        "login ok 404 ok ok",
        "chats/{chat}/panel/composer/",
        htmx=True,
    ),
    R(
        "POST",
        "chats/<int:chat_id>/panel/send/",
        "login ok 404 403 403",
        "chats/{chat}/panel/send/",
        {"text": "Hello"},
        htmx=True,
    ),
    R("GET", "chats/<int:chat_id>/panel/send/", "405 405 405 405 405", "chats/{chat}/panel/send/"),
    R(
        "POST",
        "chats/<int:chat_id>/panel/messages/<int:message_id>/retry/",
        "login ok 404 403 403",
        "chats/{chat}/panel/messages/{failed_message}/retry/",
        htmx=True,
    ),
    R(
        "POST",
        "chats/<int:chat_id>/panel/close/",
        "login ok 404 ok ok",
        "chats/{chat}/panel/close/",
        htmx=True,
    ),
    R(
        "POST",
        "chats/<int:chat_id>/panel/reopen/",
        "login 409 404 409 409",
        "chats/{chat}/panel/reopen/",
        htmx=True,
    ),
    R(
        "GET",
        "chats/<int:chat_id>/panel/comments/",
        "login ok 404 ok ok",
        "chats/{chat}/panel/comments/",
        htmx=True,
    ),
    R(
        "POST",
        "chats/<int:chat_id>/panel/comments/",
        "login ok 404 ok ok",
        "chats/{chat}/panel/comments/",
        {"body": "A note"},
        htmx=True,
    ),
    R(
        "GET",
        "chats/<int:chat_id>/panel/mentionable/",
        "login ok 404 ok ok",
        "chats/{chat}/panel/mentionable/",
        htmx=True,
    ),
    # The bell: everyone's own notifications.
    R("GET", "notifications/bell/", "login ok ok ok ok", htmx=True),
    R("POST", "notifications/read-all/", "login ok ok ok ok", htmx=True),
    R(
        "POST",
        "notifications/<int:notification_id>/read/",
        "login ok 404 404 404",
        "notifications/{notification}/read/",
        htmx=True,
    ),
    # The customer simulator: public while a sandbox channel exists.
    R("GET", "simulator/", "ok ok ok ok ok"),
    R("POST", "simulator/identity/", "422 422 422 422 422"),
    R("POST", "simulator/send/", "302 302 302 302 302"),
    R("GET", "simulator/conversation/", "ok ok ok ok ok"),
    R("POST", "simulator/receipts/", "ok ok ok ok ok"),
]

# --- The set-up pages: every registered model's views ---------------------------------

# Every model registered on the set-up site, and what an admin may add or delete by hand
# (the rest the desk itself makes and keeps).
SETUP_MODELS = {
    # model                   admins may add  / delete by hand
    "accounts/user": ("add", "delete"),
    "accounts/connection": ("", ""),
    "accounts/apitoken": ("", "delete"),
    "routing/department": ("add", "delete"),
    "routing/businesshours": ("add", "delete"),
    "providers/channel": ("add", "delete"),
    "providers/template": ("add", "delete"),
    "providers/providerevent": ("", ""),
    "chats/contact": ("add", "delete"),
    "chats/contactoptout": ("", ""),
    "chats/chat": ("", ""),
    "chats/message": ("", ""),
    "chats/comment": ("", ""),
    "chats/chatevent": ("", ""),
    "chats/notification": ("", ""),
}
SETUP_ONLY = "login 403 403 403 ok"


def setup_rows() -> list[Row]:
    rows = [
        R("GET", "setup/", SETUP_ONLY),
        R("GET", "setup/login/", "login 403 403 403 302"),
        R("GET", "setup/logout/", SETUP_ONLY),
        R("GET", "setup/password_change/", SETUP_ONLY),
        R("GET", "setup/password_change/done/", SETUP_ONLY),
        R("GET", "setup/autocomplete/", "login 403 403 403 403"),
        R("GET", "setup/jsi18n/", SETUP_ONLY),
        R(
            "GET",
            "setup/r/<path:content_type_id>/<path:object_id>/",
            "login 403 403 403 404",
            "setup/r/1/1/",
        ),
        R(
            "GET",
            "setup/accounts/user/<id>/password/",
            SETUP_ONLY,
            "setup/accounts/user/{user}/password/",
        ),
        R(
            "GET",
            "setup/^(?P<app_label>accounts|routing|providers|chats)/$",
            SETUP_ONLY,
            "setup/chats/",
        ),
        R("GET", "setup/(?P<url>.*)$", "login 403 403 403 404", "setup/nothing-here/"),
        # Actions on one row: POST only, back to the row's page.
        R(
            "POST",
            "setup/accounts/user/<int:object_id>/unlock/",
            "login 403 403 403 302",
            "setup/accounts/user/{user}/unlock/",
        ),
        R(
            "GET",
            "setup/accounts/user/<int:object_id>/unlock/",
            "login 403 403 403 405",
            "setup/accounts/user/{user}/unlock/",
        ),
        R(
            "POST",
            "setup/providers/channel/<int:object_id>/test-connection/",
            "login 403 403 403 302",
            "setup/providers/channel/{channel}/test-connection/",
        ),
    ]
    nobody = "login 403 403 403 403"
    for model, (add, delete) in SETUP_MODELS.items():
        base = f"setup/{model}/"
        one = base + "{" + model.replace("/", "_") + "}/"
        rows += [
            R("GET", base, SETUP_ONLY),
            R("GET", base + "add/", SETUP_ONLY if add else nobody),
            R("GET", base + "<path:object_id>/history/", SETUP_ONLY, one + "history/"),
            R(
                "GET",
                base + "<path:object_id>/delete/",
                SETUP_ONLY if delete else nobody,
                one + "delete/",
            ),
            R("GET", base + "<path:object_id>/change/", SETUP_ONLY, one + "change/"),
            R("GET", base + "<path:object_id>/", "login 403 403 403 302", one),
        ]
    return rows


SETUP_ROWS = setup_rows()

# --- The API (bearer tokens) -------------------------------------------------------------

NEW_USER = {"username": "erin", "password": "plum-tree-harbour-42", "role": "agent"}
HOURS = {"timezone": "UTC", "weekly": [], "exceptions": []}
API: list[Row] = [
    # method path (OpenAPI's spelling)          anon  agent other sup  admin
    R("GET", "/departments", "login ok ok ok ok"),
    R("POST", "/departments", "login 403 403 403 ok", data={"name": "Billing"}),
    R("GET", "/users", "login ok ok ok ok"),
    R("POST", "/users", "login 403 403 403 ok", data=NEW_USER),
    R("GET", "/users/{user_id}", "login ok ok ok ok", "/users/{user}"),
    R("PATCH", "/users/{user_id}", "login 403 403 403 ok", "/users/{user}", {"capacity": 3}),
    R("GET", "/me/presence", "login ok ok ok ok"),
    R("PUT", "/me/presence", "login ok ok ok ok", data={"status": "away"}),
    R("GET", "/channels", "login ok ok ok ok"),
    R(
        "POST",
        "/channels",
        "login 403 403 403 ok",
        data={"kind": "sandbox", "name": "Test", "config": {}},
    ),
    R("GET", "/channels/{channel_id}", "login ok ok ok ok", "/channels/{channel}"),
    R(
        "PATCH",
        "/channels/{channel_id}",
        "login 403 403 403 ok",
        "/channels/{channel}",
        {"name": "Renamed"},
    ),
    R(
        "POST",
        "/channels/{channel_id}/connection-test",
        "login 403 403 403 ok",
        "/channels/{channel}/connection-test",
    ),
    R("GET", "/business-hours", "login ok ok ok ok"),
    R("PUT", "/business-hours", "login 403 403 403 ok", data=HOURS),
    R(
        "DELETE",
        "/business-hours",
        "login 403 403 403 ok",
        "/business-hours?department_id={department}",
    ),
    R("GET", "/templates", "login ok ok ok ok"),
    R(
        "POST",
        "/templates",
        "login 403 403 403 ok",
        data={"channel_id": "{whatsapp}", "name": "new_one", "body": "Hi {{{{1}}}}"},
    ),
    R("GET", "/templates/{template_id}", "login ok ok ok ok", "/templates/{template}"),
    R(
        "PATCH",
        "/templates/{template_id}",
        "login 403 403 403 ok",
        "/templates/{template}",
        {"status": "approved"},
    ),
    R("GET", "/chats", "login ok ok ok ok"),
    R("GET", "/chats/summary", "login ok ok ok ok"),
    R("GET", "/chats/{chat_id}", "login ok 404 ok ok", "/chats/{chat}"),
    R("GET", "/chats/{chat_id}/messages", "login ok 404 ok ok", "/chats/{chat}/messages"),
    # Supervisors never write into a live chat that is not theirs.
    R(
        "POST",
        "/chats/{chat_id}/messages",
        "login ok 404 403 403",
        "/chats/{chat}/messages",
        {"text": "Hello"},
    ),
    R(
        "POST",
        "/chats/{chat_id}/messages/{message_id}/retry",
        "login ok 404 403 403",
        "/chats/{chat}/messages/{failed_message}/retry",
    ),
    R("GET", "/chats/{chat_id}/events", "login ok 404 ok ok", "/chats/{chat}/events"),
    R(
        "POST",
        "/chats/{chat_id}/assign",
        "login 409 404 409 409",
        "/chats/{chat}/assign",
        {"department_id": "{department}"},
    ),
    R("POST", "/chats/{chat_id}/close", "login ok 404 ok ok", "/chats/{chat}/close"),
    R("POST", "/chats/{chat_id}/reopen", "login 409 404 409 409", "/chats/{chat}/reopen"),
    R("POST", "/chats/{chat_id}/read", "login ok 404 ok ok", "/chats/{chat}/read"),
    R("POST", "/chats/{chat_id}/accept", "login 409 404 403 403", "/chats/{chat}/accept"),
    R("POST", "/chats/tickets/accept-oldest", "login ok ok 403 403", data={"count": 1}),
    # Acting on several chats at once is for those who oversee the desk.
    R(
        "POST",
        "/chats/bulk",
        "login 403 403 ok ok",
        data={"action": "close", "chat_ids": ["{chat}"]},
    ),
    R("GET", "/chats/{chat_id}/comments", "login ok 404 ok ok", "/chats/{chat}/comments"),
    R(
        "POST",
        "/chats/{chat_id}/comments",
        "login ok 404 ok ok",
        "/chats/{chat}/comments",
        {"body": "A note"},
    ),
    R("GET", "/notifications", "login ok ok ok ok"),
    R("GET", "/notifications/unread-count", "login ok ok ok ok"),
    R("POST", "/notifications/read-all", "login ok ok ok ok"),
    R(
        "POST",
        "/notifications/{notification_id}/read",
        "login ok 404 404 404",
        "/notifications/{notification}/read",
    ),
    R("GET", "/agents/available", "login ok ok ok ok"),
]


# --- The world ----------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    ids: dict[str, int]


@pytest.fixture
def world(db: Any) -> World:
    sales = Department.objects.create(name="Sales")
    support = Department.objects.create(name="Support")

    def user(name: str, role: str, *departments: Department) -> User:
        return account_services.create_user(
            username=name, password=None, role=role, department_ids=[d.pk for d in departments]
        )

    alice = user("alice", Role.AGENT, sales)
    dave = user("dave", Role.AGENT, support)
    sam = user("sam", Role.SUPERVISOR)
    ada = user("ada", Role.ADMIN)
    channel = Channel.objects.create(kind=ChannelKind.SANDBOX, name="Sandbox", department=sales)
    whatsapp = Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp",
        department=sales,
        config={"phone_number_id": "106540352242922"},
        secrets={"access_token": "EAAG-x", "app_secret": "s", "verify_token": "v"},
    )
    contact = Contact.objects.create(phone="+27821234567", name="Carol")
    chat = Chat.objects.create(
        kind=ChatKind.CHAT,
        status=ChatStatus.OPEN,
        channel=channel,
        contact=contact,
        agent=alice,
        department=sales,
        created_at=clock.now(),
        last_inbound_at=clock.now(),
    )
    add_comment(chat_id=chat.pk, body="@alice have a look", by=sam)
    notification = Notification.objects.get(recipient=alice)
    template = Template.objects.create(
        channel=whatsapp, name="hello", language="en", category="utility", body="Hi {{1}}"
    )
    sms = Channel.objects.create(
        kind=ChannelKind.SMS,
        name="SMS",
        config={"account_sid": "AC" + "1" * 32, "from_number": "+14155550100"},
        secrets={"auth_token": "t"},
    )
    # One row of every model the set-up pages show.
    now = clock.now()
    BusinessHours.objects.create(timezone="UTC")
    Message.objects.create(
        chat=chat, channel=channel, direction=Direction.IN, text="Hello", created_at=now
    )
    failed = Message.objects.create(
        chat=chat,
        channel=channel,
        direction=Direction.OUT,
        status="failed",
        author=alice,
        text="Not delivered",
        created_at=now,
    )
    ContactOptOut.objects.create(contact=contact, channel=sms, keyword="STOP", created_at=now)
    Connection.objects.create(
        user=alice, channel_name="matrix.tab", opened_at=now, last_seen_at=now
    )
    account_services.issue_api_token(user=alice, name="CRM")
    ProviderEvent.objects.create(
        channel=whatsapp,
        kind="unreadable",
        reason="a message has no 'id'",
        payload={"type": "text"},
        digest="1" * 64,
        received_at=now,
    )
    setup_ids = {}
    for model in SETUP_MODELS:
        app_label, model_name = model.split("/")
        first = apps.get_model(app_label, model_name).objects.order_by("pk").first()
        assert first is not None, f"the world has no {model}"
        setup_ids[model.replace("/", "_")] = first.pk
    return World(
        users={
            "anonymous": None,
            "agent": alice,
            "other_agent": dave,
            "supervisor": sam,
            "admin": ada,
        },
        ids={
            "chat": chat.pk,
            "notification": notification.pk,
            "failed_message": failed.pk,
            "channel": channel.pk,
            "whatsapp": whatsapp.pk,
            "template": template.pk,
            "user": alice.pk,
            "department": sales.pk,
            "sms": sms.pk,
            **setup_ids,
        },
    )


def concrete(row: Row, world: World, prefix: str) -> str:
    return prefix + (row.path or row.route).format(**world.ids)


def filled(data: dict[str, Any] | None, world: World) -> dict[str, Any] | None:
    """The body with ``"{chat}"``-style values replaced by the world's ids."""
    if data is None:
        return None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str) and "{" in value:
            value = value.format(**world.ids)
            out[key] = int(value) if value.isdigit() else value
        elif isinstance(value, list):
            out[key] = [(filled({"item": item}, world) or {})["item"] for item in value]
        else:
            out[key] = value
    return out


def attempt(
    client: Client, row: Row, path: str, data: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    """One request, undone afterwards so each role meets the same world."""
    method = row.method.lower()
    if row.htmx:
        headers = {**headers, "HX-Request": "true"}
    sid = transaction.savepoint()
    cookies = copy.deepcopy(client.cookies)  # signing in or out changes them
    try:
        if method in ("get", "delete"):
            return getattr(client, method)(path, data, headers=headers)
        if path.startswith("/api/"):
            return getattr(client, method)(
                path, data or {}, content_type="application/json", headers=headers
            )
        return getattr(client, method)(path, data or {}, headers=headers)
    finally:
        transaction.savepoint_rollback(sid)
        client.cookies = cookies


def outcomes(
    rows: list[Row], world: World, *, api_tokens: bool
) -> list[tuple[Row, dict[str, str]]]:
    got: list[tuple[Row, dict[str, str]]] = []
    clients: dict[str, tuple[Client, dict[str, str]]] = {}
    for role, user in world.users.items():
        client = Client()
        headers: dict[str, str] = {}
        if user is not None:
            if api_tokens:
                headers = {"Authorization": f"Bearer {account_services.issue_api_token(user=user)}"}
            else:
                client.force_login(user)
        clients[role] = (client, headers)
    prefix = "/api/v1" if api_tokens else "/"
    for row in rows:
        path = concrete(row, world, prefix)
        data = filled(row.data, world)
        got.append(
            (
                row,
                {
                    role: outcome(attempt(client, row, path, data, headers))
                    for role, (client, headers) in clients.items()
                },
            )
        )
    return got


def mismatches(got: list[tuple[Row, dict[str, str]]]) -> list[str]:
    wrong = []
    for row, by_role in got:
        expected = row.expectations()
        for role in ROLES:
            if by_role[role] != expected[role]:
                wrong.append(
                    f"{row.method} {row.route} as {role}: expected {expected[role]}, "
                    f"got {by_role[role]}"
                )
    return wrong


def test_pages_and_webhooks_answer_each_role_as_the_matrix_says(world: World) -> None:
    assert mismatches(outcomes(PAGES, world, api_tokens=False)) == []


def test_the_setup_pages_answer_each_role_as_the_matrix_says(world: World) -> None:
    assert mismatches(outcomes(SETUP_ROWS, world, api_tokens=False)) == []


def test_api_operations_answer_each_role_as_the_matrix_says(world: World) -> None:
    assert mismatches(outcomes(API, world, api_tokens=True)) == []


def dump(rows: list[Row], world: World, api_tokens: bool) -> None:
    for row, by_role in outcomes(rows, world, api_tokens=api_tokens):
        print(f"{row.method:6} {row.route:55} {' '.join(by_role[r] for r in ROLES)}")


def test_another_agents_chat_head_says_only_that_it_is_not_theirs(world: World) -> None:
    """The one fragment that answers 200 to someone who may not see the chat (htmx swaps
    only a 2xx): it must hold the sentence and nothing of the chat."""
    dave = Client()
    dave.force_login(world.users["other_agent"])  # type: ignore[arg-type]
    html = dave.get(f"/agent/chats/{world.ids['chat']}/open/").content.decode()
    assert "No chat with that id" in html or "no longer yours" in html.lower(), html
    assert "Carol" not in html and "27821234567" not in html


# --- Every route has a row --------------------------------------------------------------


def resolver_routes() -> set[tuple[str, str]]:
    """(kind, route) of every URL pattern: the API's are its operations, listed below."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    routes = set(walk(get_resolver().url_patterns, ""))
    api_operations = {r for r in routes if r.startswith("api/v1/") and r not in NINJA_OWN}
    return {("page", r) for r in routes - api_operations}


# django-ninja's own views under /api/v1/ (the rest are operations, checked by schema).
NINJA_OWN = {"api/v1/", "api/v1/openapi.json", "api/v1/docs"}


def api_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
    }


def test_every_route_is_in_the_matrix() -> None:
    in_matrix = {("page", row.route) for row in PAGES + SETUP_ROWS}
    missing = resolver_routes() - in_matrix
    assert missing == set(), f"routes with no row in the permission matrix: {sorted(missing)}"
    stale = in_matrix - resolver_routes()
    assert stale == set(), f"rows for routes that no longer exist: {sorted(stale)}"

    api_rows = {(row.method, row.route) for row in API}
    assert api_operations() - api_rows == set(), "API operations with no row in the matrix"
    assert api_rows - api_operations() == set(), "matrix rows for API operations that are gone"


def test_every_set_up_model_is_in_the_matrix() -> None:
    registered = {f"{m._meta.app_label}/{m._meta.model_name}" for m in setup_site._registry}
    assert registered == set(SETUP_MODELS)
    # Django's default admin site is not mounted: the set-up site is the only one.
    assert not any(p.startswith("admin/") for _, p in resolver_routes())


# --- Live events --------------------------------------------------------------------------
#
# Who receives each group of events on /ws/events (replayed from the start, which is the
# same rule as live delivery: tests/realtime/test_visibility.py). Anonymous sockets are
# refused outright (tests/realtime/test_presence.py), so they receive nothing.

LIVE: dict[str, str] = {
    # group                                   anon agent other sup admin
    "a chat assigned to the agent": "no yes no yes yes",
    "an unassigned ticket of the agent's department": "no yes no yes yes",
    "a comment on the agent's chat": "no yes no yes yes",
    "a notification for the agent": "no yes no no no",
    "presence changes": "no yes yes yes yes",
}


@pytest.mark.django_db(transaction=True)
def test_live_event_groups_reach_each_role_as_the_matrix_says(
    sandbox: Channel, alice: User, dave: User, sam: User, ada: User
) -> None:
    from chatdesk.flows.presence import set_presence

    ticket = customer_writes(sandbox, "+27820000101", "Anyone there?").chat  # nobody online
    make_online(alice)
    chat = customer_writes(sandbox, "+27820000102", "Hello").chat
    chat.refresh_from_db()
    ticket.refresh_from_db()
    assert chat.agent_id == alice.pk and ticket.agent_id is None
    comment = add_comment(chat_id=chat.pk, body="@alice a note", by=sam)
    set_presence(user=dave, status="away")

    def group(frame: dict[str, Any]) -> str | None:
        kind = frame.get("type")
        if kind == "presence.changed":
            return "presence changes"
        if kind == "notification.created":
            return "a notification for the agent"
        if kind == "comment.created" and frame["chat_id"] == chat.pk:
            return "a comment on the agent's chat"
        if frame.get("chat_id") == chat.pk:
            return "a chat assigned to the agent"
        if frame.get("chat_id") == ticket.pk:
            return "an unassigned ticket of the agent's department"
        return None

    received: dict[str, set[str]] = {}

    async def scenario() -> None:
        for role, user in (
            ("agent", alice),
            ("other_agent", dave),
            ("supervisor", sam),
            ("admin", ada),
        ):
            socket = await connect(user, since=0)
            received[role] = {g for f in await frames(socket) if (g := group(f))}
            await socket.disconnect()

    run(scenario)
    received["anonymous"] = set()
    assert comment.pk

    for name, expected in LIVE.items():
        wanted = dict(zip(ROLES, expected.split(), strict=True))
        for role in ROLES:
            assert (name in received[role]) == (wanted[role] == "yes"), (name, role, received)
