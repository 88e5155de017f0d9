"""Every page is sent with a Content-Security-Policy that allows no inline script or
style and nothing from another origin, and with nosniff; session and CSRF cookies are
HttpOnly (the session) and SameSite."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.personas import PASSWORD

PAGES = ["/login/", "/agent/", "/supervisor/", "/simulator/", "/setup/", "/healthz"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_content_security_policy(
    client_as: Any, alice: Any, path: str
) -> None:
    response = client_as(alice).get(path)
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_login_sets_http_only_same_site_cookies(db: Any, alice: Any) -> None:
    client = Client()
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    answer = client.post(
        "/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302
    session = answer.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert page.cookies["csrftoken"]["samesite"] == "Lax"
