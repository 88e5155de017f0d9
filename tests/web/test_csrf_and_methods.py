"""Cross-site requests cannot act for a signed-in person: every form and htmx POST, and
every API write made with the browser's session, needs the CSRF token (403 and no change
without it, the action done with it); an integration's bearer token needs none. No URL
changes anything on GET. Cookies are HttpOnly (the session), SameSite, and Secure when
the desk is served over HTTPS.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from chatdesk.accounts.models import User
from chatdesk.api.api import api
from chatdesk.chats.models import Chat, ChatStatus, Comment, Message, Notification
from chatdesk.chats.services.comments import add_comment
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
from tests.support.chats import ChatMaker
from tests.support.personas import PASSWORD
from tests.support.scratch import subprocess_env

HTMX = {"HX-Request": "true"}


def strict_client(user: User | None, page: str) -> tuple[Client, str]:
    """A client that gets CSRF checks as a browser does, signed in as ``user``, and the
    token ``page`` handed it."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return client, client.cookies["csrftoken"].value


@dataclass
class Action:
    """One state-changing POST of the pages: who makes it, from which page, and how to
    tell it was done."""

    who: str
    page: str
    path: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    done: Callable[[dict[str, Any]], bool]
    htmx: bool = True


def _ticket_closed(objects: dict[str, Any]) -> bool:
    return bool(Chat.objects.get(pk=objects["ticket"].pk).status == ChatStatus.CLOSED)


ACTIONS: dict[str, Action] = {
    "sign out": Action(
        "alice",
        "/agent/",
        lambda o: "/logout/",
        lambda o: {},
        lambda o: not Session.objects.exists(),
        htmx=False,
    ),
    "presence switch": Action(
        "alice",
        "/agent/",
        lambda o: "/agent/presence/",
        lambda o: {"status": "away"},
        lambda o: User.objects.get(username="alice").presence == "away",
    ),
    "accept a ticket": Action(
        "alice",
        "/agent/",
        lambda o: "/agent/tickets/accept/",
        lambda o: {"chat_id": o["ticket"].pk},
        lambda o: Chat.objects.get(pk=o["ticket"].pk).agent_id is not None,
    ),
    "mark a chat read": Action(
        "alice",
        "/agent/",
        lambda o: f"/agent/chats/{o['chat'].pk}/read/",
        lambda o: {},
        lambda o: Chat.objects.get(pk=o["chat"].pk).agent_read_at is not None,
    ),
    "send a reply": Action(
        "alice",
        "/agent/",
        lambda o: f"/chats/{o['chat'].pk}/panel/send/",
        lambda o: {"text": "On its way"},
        lambda o: Message.objects.filter(text="On its way").exists(),
    ),
    "close a chat": Action(
        "alice",
        "/agent/",
        lambda o: f"/chats/{o['chat'].pk}/panel/close/",
        lambda o: {},
        lambda o: Chat.objects.get(pk=o["chat"].pk).status == ChatStatus.CLOSED,
    ),
    "reopen a chat": Action(
        "sam",
        "/supervisor/",
        lambda o: f"/chats/{o['closed'].pk}/panel/reopen/",
        lambda o: {},
        lambda o: Chat.objects.get(pk=o["closed"].pk).status == ChatStatus.OPEN,
    ),
    "comment": Action(
        "alice",
        "/agent/",
        lambda o: f"/chats/{o['chat'].pk}/panel/comments/",
        lambda o: {"body": "@bob a note"},
        lambda o: Comment.objects.filter(body="@bob a note").exists(),
    ),
    "read every notification": Action(
        "alice",
        "/agent/",
        lambda o: "/notifications/read-all/",
        lambda o: {},
        lambda o: (
            not Notification.objects.filter(
                recipient__username="alice", read_at__isnull=True
            ).exists()
        ),
    ),
    "read one notification": Action(
        "alice",
        "/agent/",
        lambda o: f"/notifications/{o['notification'].pk}/read/",
        lambda o: {},
        lambda o: Notification.objects.get(pk=o["notification"].pk).read_at is not None,
    ),
    "assign a chat": Action(
        "sam",
        "/supervisor/",
        lambda o: f"/chats/{o['chat'].pk}/assign/",
        lambda o: {"agent": o["bob"].pk},
        lambda o: Chat.objects.get(pk=o["chat"].pk).agent_id == o["bob"].pk,
    ),
    "close tickets from the console": Action(
        "sam",
        "/supervisor/",
        lambda o: "/supervisor/tickets/action/",
        lambda o: {"do": f"close:{o['ticket'].pk}"},
        _ticket_closed,
        htmx=False,
    ),
    "simulator: who you are": Action(
        "anonymous",
        "/simulator/",
        lambda o: "/simulator/identity/",
        lambda o: {"channel": o["sandbox"].pk, "phone": "+27821110000", "name": "Nomsa"},
        lambda o: True,  # kept in the session; the send below shows it worked
        htmx=False,
    ),
    "set-up: add a department": Action(
        "ada",
        "/setup/",
        lambda o: "/setup/routing/department/add/",
        lambda o: {"name": "Marketing"},
        lambda o: Department.objects.filter(name="Marketing").exists(),
        htmx=False,
    ),
}


@pytest.fixture
def desk(
    alice: User,
    bob: User,
    sam: User,
    ada: User,
    sandbox: Channel,
    make_chat: ChatMaker,
    online: Callable[[User], User],
) -> dict[str, Any]:
    online(bob)  # a transfer needs someone online to take the chat
    chat = make_chat("+27820000001", name="Carol", agent=alice)
    closed = make_chat("+27820000002", name="Thabo", agent=alice, state="closed")
    ticket = make_chat("+27820000003", name="Jana", state="unassigned")
    Chat.objects.filter(pk=ticket.pk).update(department=sandbox.department)  # Sales' queue
    add_comment(chat_id=chat.pk, body="@alice see this", by=sam)
    notification = Notification.objects.get(recipient=alice)
    return {
        "alice": alice,
        "bob": bob,
        "sam": sam,
        "ada": ada,
        "anonymous": None,
        "sandbox": sandbox,
        "chat": chat,
        "closed": closed,
        "ticket": ticket,
        "notification": notification,
    }


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but the sessions, in primary-key order."""
    rows = {}
    for model in apps.get_models():
        if model is Session or model._meta.app_label == "axes":
            continue
        rows[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return rows


@pytest.mark.parametrize("name", list(ACTIONS))
def test_a_post_without_the_csrf_token_is_refused_and_with_it_is_done(
    desk: dict[str, Any], name: str
) -> None:
    action = ACTIONS[name]
    client, token = strict_client(desk[action.who], action.page)
    path, data = action.path(desk), action.data(desk)
    headers = HTMX if action.htmx else {}

    before = snapshot()
    refused = client.post(path, data, headers=headers)
    assert refused.status_code == 403, (name, refused.status_code)
    assert "CSRF" in refused.text or "expired" in refused.text.lower()
    assert snapshot() == before, f"{name}: a refused POST changed something"
    forged = client.post(path, data, headers={**headers, "X-CSRFToken": "x" * 32})
    assert forged.status_code == 403, name

    if action.htmx:
        done = client.post(path, data, headers={**headers, "X-CSRFToken": token})
    else:
        done = client.post(path, {**data, "csrfmiddlewaretoken": token})
    assert done.status_code in (200, 201, 204, 302), (name, done.status_code, done.text[:300])
    assert action.done(desk), f"{name}: accepted but not done"


def test_the_login_form_needs_the_token(alice: User) -> None:
    client, token = strict_client(None, "/login/")
    form = {"username": "alice", "password": PASSWORD}
    assert client.post("/login/", form).status_code == 403
    assert "_auth_user_id" not in client.session
    signed_in = client.post("/login/", {**form, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_every_page_post_outside_the_api_and_webhooks_checks_the_token(
    desk: dict[str, Any],
) -> None:
    """Whatever URL a page may post to, a POST without the token is refused before it
    reaches the view: nothing was left out of the CSRF middleware's reach."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk["ada"])
    before = snapshot()
    checked = []
    for pattern in every_pattern():
        if pattern.startswith(("api/", "webhooks/")):
            continue
        path = "/" + fill(pattern, desk)
        response = client.post(path, {})
        assert response.status_code == 403, (path, response.status_code)
        checked.append(path)
    assert snapshot() == before
    assert len(checked) > 40


# --- The API: session needs the token, a bearer token does not -----------------------------


def api_writes() -> list[tuple[str, str]]:
    """(method, path) of every API operation that changes something."""
    schema = api.get_openapi_schema()
    return [
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    ]


def test_every_api_write_with_a_session_and_no_token_is_403_and_changes_nothing(
    desk: dict[str, Any],
) -> None:
    writes = api_writes()
    assert len(writes) >= 15  # the schema was read
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk["ada"])
    before = snapshot()
    for method, path in writes:
        url = re.sub(r"\{(\w+)\}", lambda m: str(sample_id(m[1], desk)), path)
        response = getattr(client, method)(url, "{}", content_type="application/json")
        assert response.status_code == 403, (method, url, response.status_code)
        assert "CSRF" in response.json()["detail"], (method, url)
    assert snapshot() == before


def test_an_api_write_with_the_session_and_its_token_is_done(desk: dict[str, Any]) -> None:
    client, token = strict_client(desk["alice"], "/agent/")
    url = f"/api/v1/chats/{desk['chat'].pk}/comments"
    body = json.dumps({"body": "with the session"})
    assert client.post(url, body, content_type="application/json").status_code == 403
    done = client.post(url, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert done.status_code == 201, done.content
    assert Comment.objects.filter(body="with the session").count() == 1


def test_a_bearer_token_needs_no_csrf_token(
    desk: dict[str, Any], token_for: Callable[[User], str]
) -> None:
    client = Client(enforce_csrf_checks=True)
    url = f"/api/v1/chats/{desk['chat'].pk}/comments"
    response = client.post(
        url,
        json.dumps({"body": "from an integration"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(desk['alice'])}"},
    )
    assert response.status_code == 201, response.content
    assert "csrftoken" not in response.cookies
    assert Comment.objects.filter(body="from an integration").count() == 1


# --- GET changes nothing -------------------------------------------------------------------


def every_pattern() -> list[str]:
    def walk(patterns: list[Any], prefix: str) -> list[str]:
        found = []
        for entry in patterns:
            if isinstance(entry, URLResolver):
                found += walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(prefix + str(entry.pattern))
        return found

    return sorted(set(walk(get_resolver().url_patterns, "")))


def sample_id(name: str, desk: dict[str, Any], pattern: str = "") -> int:
    if name == "chat_id":
        return int(desk["chat"].pk)
    if name == "notification_id":
        return int(desk["notification"].pk)
    if name in ("user_id", "id"):
        return int(desk["alice"].pk)
    if name == "channel_id":
        return int(desk["sandbox"].pk)
    if name == "template_id":
        return 1
    if name == "object_id":
        match = re.match(r"setup/(\w+)/(\w+)/", pattern)
        if match:
            first = apps.get_model(match[1], match[2])._default_manager.order_by("pk").first()
            return int(first.pk) if first is not None else 1
    if name == "content_type_id":
        from django.contrib.contenttypes.models import ContentType

        return int(ContentType.objects.get_for_model(Chat).pk)
    return 1


def fill(pattern: str, desk: dict[str, Any]) -> str:
    """A URL pattern with each parameter given an id that exists."""
    filled = re.sub(
        r"<(?:\w+:)?(\w+)>", lambda m: str(sample_id(m[1], desk, pattern)), pattern
    ).replace("^", "")
    if "object_id" in pattern and "content_type_id" in pattern:
        filled = f"setup/r/{sample_id('content_type_id', desk)}/{desk['chat'].pk}/"
    return filled


@pytest.mark.parametrize("who", ["anonymous", "alice", "sam", "ada"])
def test_no_url_changes_anything_on_get(desk: dict[str, Any], who: str) -> None:
    client = Client()
    if desk[who] is not None:
        client.force_login(desk[who])
    before = snapshot()
    answered: dict[int, int] = {}
    for pattern in every_pattern():
        path = "/" + fill(pattern, desk)
        response = client.get(path, {"tab": "tickets", "part": "form", "status": "away"})
        assert response.status_code < 500, (path, response.status_code)
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        after = snapshot()
        assert after == before, f"GET {path} as {who} changed something"
    assert answered.get(200, 0) > (20 if who == "ada" else 3), answered


# --- Cookies -------------------------------------------------------------------------------


def test_the_csrf_cookie_is_same_site_and_not_secure_over_plain_http(db: Any) -> None:
    response = Client().get("/login/")
    cookie = response.cookies["csrftoken"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]


COOKIE_FLAGS = """
import json
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in (
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE")}))
"""


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://desk.example.com", True), ("http://desk.example.com", False), ("", False)],
)
def test_cookies_are_secure_when_the_desk_is_served_over_https(
    tmp_path: Any, public_url: str, secure: bool
) -> None:
    env = subprocess_env("sqlite:///" + str(tmp_path / "db.sqlite3"), tmp_path / "var")
    env["CHATDESK_PUBLIC_URL"] = public_url
    env["DJANGO_SETTINGS_MODULE"] = "chatdesk.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + COOKIE_FLAGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    flags = json.loads(result.stdout.strip().splitlines()[-1])
    assert flags == {
        "SESSION_COOKIE_SECURE": secure,
        "CSRF_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
    }
