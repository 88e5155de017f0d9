"""Login, logout, each role's home and the 403 page, through the real URLs."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from chatdesk.accounts.models import Presence, User
from tests.support.pages import csrf_token_of
from tests.support.personas import PASSWORD


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


# Login


def test_login_page_has_the_contract_fields_and_a_csrf_token(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<input type="text" name="username"' in html
    assert '<input type="password" name="password"' in html
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    csrf_token_of(html)
    assert "<main" in html
    assert "/static/web/desk.css" in html


def test_stylesheet_is_served_by_the_app(client, db):
    response = client.get("/static/web/desk.css")
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert b":focus-visible" in content
    assert b"http" not in content  # no external fonts or images


@pytest.mark.parametrize(
    ("persona", "home"),
    [("alice", "/agent/"), ("sam", "/supervisor/"), ("ada", "/setup/")],
)
def test_login_with_csrf_lands_each_role_on_its_home(request, persona, home):
    user: User = request.getfixturevalue(persona)
    client = csrf_client()
    token = csrf_token_of(client.get("/login/").content.decode())
    response = client.post(
        "/login/", {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200


def test_login_without_the_csrf_token_is_refused(alice):
    client = csrf_client()
    client.get("/login/")
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_follows_a_safe_next_and_ignores_an_outside_one(client, ada):
    response = client.post(
        "/login/?next=/setup/routing/department/",
        {"username": "ada", "password": PASSWORD},
    )
    assert response["Location"] == "/setup/routing/department/"
    client.logout()
    response = client.post(
        "/login/?next=https://evil.example/", {"username": "ada", "password": PASSWORD}
    )
    assert response["Location"] == "/"


def test_a_wrong_password_shows_a_readable_error(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Please enter a correct username and password" in html
    assert 'value="alice"' in html
    assert "_auth_user_id" not in client.session


def test_a_signed_in_user_opening_login_goes_home(client_as, sam):
    response = client_as(sam).get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


# Logout


def test_logout_get_shows_a_confirm_form_and_keeps_the_session(client_as, alice):
    client = client_as(alice)
    response = client.get("/logout/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post" action="/logout/"' in html
    csrf_token_of(html)
    assert "_auth_user_id" in client.session


def test_logout_get_when_signed_out_goes_to_login(client, db):
    response = client.get("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_logout_post_signs_out_and_sets_the_user_offline(client_as, alice):
    alice.presence = Presence.AVAILABLE
    alice.save(update_fields=["presence"])
    client = client_as(alice)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    alice.refresh_from_db()
    assert alice.presence == Presence.OFFLINE
    assert alice.presence_changed_at is not None
    assert client.get("/agent/")["Location"] == "/login/?next=/agent/"


def test_logout_post_needs_the_csrf_token(alice):
    client = csrf_client()
    client.force_login(alice)
    assert client.post("/logout/").status_code == 403
    assert "_auth_user_id" in client.session


def test_the_header_logout_button_is_a_csrf_protected_post(client_as, alice):
    html = client_as(alice).get("/agent/").content.decode()
    form = re.search(r'<form method="post" action="/logout/".*?</form>', html, re.S)
    assert form and "csrfmiddlewaretoken" in form.group(0)


def test_the_setup_logout_signs_out_too(client_as, ada):
    client = client_as(ada)
    response = client.post("/setup/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


# Homes and roles


def test_anonymous_home_goes_to_login_with_next(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


@pytest.mark.parametrize("path", ["/agent/", "/supervisor/"])
def test_anonymous_pages_go_to_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize(
    ("persona", "path", "sentence"),
    [
        ("sam", "/agent/", "This is the agents&#x27; workspace"),
        ("ada", "/agent/", "This is the agents&#x27; workspace"),
        ("alice", "/supervisor/", "Only supervisors and admins can open the supervisor console."),
    ],
)
def test_wrong_role_gets_a_403_page_with_a_sentence(request, client_as, persona, path, sentence):
    response = client_as(request.getfixturevalue(persona)).get(path)
    assert response.status_code == 403
    html = response.content.decode()
    assert sentence in html
    assert "<h1" in html and 'href="/"' in html


def test_admins_may_open_the_supervisor_console(client_as, ada):
    assert client_as(ada).get("/supervisor/").status_code == 200


def test_the_header_names_the_user_and_role(client_as, sam):
    html = client_as(sam).get("/supervisor/").content.decode()
    assert "Chat Desk" in html
    assert "Sam Supervisor" in html
    assert "Supervisor" in html
    assert "Log out" in html
    assert '<nav class="mainnav" aria-label="Main">' in html


# The agent's page


def test_agent_sees_own_open_chats_and_tickets_only(client_as, make_chat, alice, bob):
    make_chat("+27820000001", name="Mine Open", agent=alice)
    make_chat("+27820000002", name="Mine Ticket", agent=alice, state="assigned")
    make_chat("+27820000003", name="Mine Closed", agent=alice, state="closed")
    make_chat("+27820000004", name="Bobs Chat", agent=bob)
    html = client_as(alice).get("/agent/").content.decode()
    assert "My chats" in html
    assert "Mine Open" in html
    assert "Mine Ticket" in html
    assert "Mine Closed" not in html
    assert "Bobs Chat" not in html


def test_agent_with_no_chats_sees_an_empty_state(client_as, alice):
    html = client_as(alice).get("/agent/").content.decode()
    assert "No open chats right now." in html


def test_customer_text_is_escaped(client_as, make_chat, alice, sam):
    make_chat("+27820000009", name='<script>alert("x")</script>', agent=alice)
    for client in (client_as(alice), client_as(sam)):
        for path in ("/agent/", "/supervisor/"):
            html = client.get(path).content.decode()
            assert "<script>alert" not in html
    html = client_as(alice).get("/agent/").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


# The supervisor's page


def test_supervisor_sees_the_three_tabs_with_counts(client_as, make_chat, sam, alice, bob):
    make_chat("+27820000001", name="Open One", agent=alice)
    make_chat("+27820000002", name="Open Two", agent=alice)
    make_chat("+27820000003", name="Open Bob", agent=bob)
    make_chat("+27820000004", name="Waiting", agent=None)
    make_chat("+27820000005", name="Closed One", agent=alice, state="closed")
    make_chat("+27820000006", name="Ticket One", state="unassigned")
    client = client_as(sam)
    html = client.get("/supervisor/").content.decode()
    for label, count in (("Chats", 4), ("Closed", 1), ("Tickets", 1)):
        assert re.search(rf'{label} <span class="count">{count}</span>', html), label
    assert re.search(r'href="\?tab=chats" class="tab" aria-current="page"', html)
    assert re.search(r'<span>Alice Agent</span><span class="count">2</span>', html)
    assert re.search(r'<span>Bob Agent</span><span class="count">1</span>', html)
    assert re.search(r'Waiting for an agent</span><span class="count">1</span>', html)
    assert "Open One" in html and "Closed One" not in html

    html = client.get("/supervisor/?tab=closed").content.decode()
    assert "Closed One" in html and "Open One" not in html
    html = client.get("/supervisor/?tab=tickets").content.decode()
    assert "Ticket One" in html and "Open One" not in html


def test_an_unknown_tab_shows_the_chats_tab(client_as, sam):
    response = client_as(sam).get("/supervisor/?tab=<b>nope")
    assert response.status_code == 200
    assert 'href="?tab=chats" class="tab" aria-current="page"' in response.content.decode()


def test_supervisor_page_queries_do_not_grow_with_chats(
    client_as, make_chat, sam, alice, bob, django_assert_max_num_queries
):
    for i in range(12):
        make_chat(f"+2782000{i:04d}", name=f"C{i}", agent=alice if i % 2 else bob)
    client = client_as(sam)
    # session + user, tab totals, tab summary, the list (joined), the agents' presence
    with django_assert_max_num_queries(6):
        assert client.get("/supervisor/").status_code == 200
