"""Bearer tokens and browser sessions both authenticate the API; nothing else does."""

from __future__ import annotations

from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from chatdesk.accounts.models import ApiToken
from chatdesk.accounts.queries import hash_token
from chatdesk.accounts.services import issue_api_token
from chatdesk.core import clock


def test_token_is_stored_hashed_and_shown_once(alice):
    token = issue_api_token(user=alice, name="crm")
    row = ApiToken.objects.get(user=alice)
    assert token.startswith("cd_")
    assert row.key_hash == hash_token(token)
    assert token not in row.key_hash
    assert row.prefix == token[:10]
    assert issue_api_token(user=alice) != token


def test_bearer_token_authenticates(alice, sales):
    token = issue_api_token(user=alice)
    response = Client().get("/api/v1/departments", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_wrong_or_malformed_tokens_get_401(alice):
    token = issue_api_token(user=alice)
    for header in [f"Bearer {token}x", f"Bearer {token[:-1]}", "Bearer ", f"Token {token}", token]:
        response = Client().get("/api/v1/departments", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["detail"].startswith("Sign in")


def test_revoked_token_and_inactive_user_get_401(alice, bob):
    revoked = issue_api_token(user=alice)
    ApiToken.objects.filter(user=alice).update(revoked_at=clock.now())
    bob_token = issue_api_token(user=bob)
    bob.is_active = False
    bob.save()
    for token in (revoked, bob_token):
        response = Client().get("/api/v1/departments", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_session_authenticates_reads_and_csrf_guards_writes(ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    assert client.get("/api/v1/departments").status_code == 200
    refused = client.post(
        "/api/v1/departments", {"name": "Billing"}, content_type="application/json"
    )
    assert refused.status_code in (401, 403)
    csrf = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf
    accepted = client.post(
        "/api/v1/departments",
        {"name": "Billing"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 201, accepted.content


def test_openapi_is_published(alice):
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/departments" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/docs").status_code in (301, 302)
