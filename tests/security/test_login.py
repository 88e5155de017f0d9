"""Signing in: repeated failures lock a username out from one address (django-axes) with a
sentence that says why and for how long; an unknown username and a wrong password get the
same answer and cost the same work; sessions end after the idle time; passwords pass the
password rules wherever they are set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.core import clock
from tests.support.personas import PASSWORD

pytestmark = pytest.mark.django_db

FAILED = "Please enter a correct username and password"
LOCKED = "Too many failed sign-ins for this username from your address. Wait 15 minutes"


def sign_in(username: str, password: str, *, address: str = "203.0.113.7") -> Any:
    """One sign-in from ``address``, as a browser posts the form."""
    client = Client(REMOTE_ADDR=address)
    return client.post("/login/", {"username": username, "password": password})


def fail(times: int, username: str, *, address: str = "203.0.113.7") -> None:
    """``times`` failed sign-ins, each answered with the form and the usual error."""
    for _ in range(times):
        answer = sign_in(username, "not-the-password", address=address)
        assert answer.status_code == 200
        assert FAILED in answer.content.decode()


def lock_out(username: str, *, address: str = "203.0.113.7") -> None:
    """Four failures are answered as usual; the fifth is the lockout."""
    fail(settings.AXES_FAILURE_LIMIT - 1, username, address=address)
    fifth = sign_in(username, "not-the-password", address=address)
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()


def signed_in(answer: Any) -> bool:
    return bool(answer.status_code == 302 and answer["Location"] == "/")


def test_five_failures_lock_the_username_out_from_that_address(alice: User) -> None:
    lock_out("alice")

    locked = sign_in("alice", PASSWORD)

    assert locked.status_code == 429
    html = locked.content.decode()
    assert LOCKED in html
    assert 'role="alert"' in html and 'name="password"' in html, "the form again, with why"
    assert "_auth_user_id" not in locked.client.session
    # The same username from another address is not locked out.
    assert signed_in(sign_in("alice", PASSWORD, address="198.51.100.4"))


def test_four_failures_do_not_lock_and_a_success_clears_them(alice: User) -> None:
    fail(settings.AXES_FAILURE_LIMIT - 1, "alice")
    assert signed_in(sign_in("alice", PASSWORD))

    fail(settings.AXES_FAILURE_LIMIT - 1, "alice")

    assert signed_in(sign_in("alice", PASSWORD))


def test_the_lockout_ends_after_fifteen_minutes(alice: User, time_machine: Any) -> None:
    time_machine.move_to(clock.now(), tick=False)
    lock_out("alice")

    time_machine.shift(timedelta(minutes=14))
    assert sign_in("alice", PASSWORD).status_code == 429
    time_machine.shift(timedelta(minutes=1, seconds=1))

    assert signed_in(sign_in("alice", PASSWORD))


def test_an_unknown_username_gets_the_same_answers_as_a_wrong_password(alice: User) -> None:
    wrong = sign_in("alice", "not-the-password")
    unknown = sign_in("nobody-here", "not-the-password")
    assert (wrong.status_code, unknown.status_code) == (200, 200)
    assert FAILED in wrong.content.decode()
    assert _page_without_username(wrong, "alice") == _page_without_username(unknown, "nobody-here")

    # Locked out alike: the lockout tells nothing about who has an account.
    fail(settings.AXES_FAILURE_LIMIT - 2, "alice")
    fail(settings.AXES_FAILURE_LIMIT - 2, "nobody-here")
    locked_wrong = sign_in("alice", "not-the-password")
    locked_unknown = sign_in("nobody-here", "not-the-password")
    assert (locked_wrong.status_code, locked_unknown.status_code) == (429, 429)
    assert _page_without_username(locked_wrong, "alice") == _page_without_username(
        locked_unknown, "nobody-here"
    )


def _page_without_username(answer: Any, username: str) -> str:
    """The page as the visitor sees it, less the username they typed and the CSRF token."""
    html = answer.content.decode().replace(username, "USERNAME")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "TOKEN", html)


def test_an_unknown_username_costs_the_same_password_hashing_as_a_wrong_password(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing would tell an attacker which usernames exist if only real users' sign-ins
    ran the slow password hasher; Django runs it for unknown usernames too. Counted, not
    timed, so the test does not depend on the machine's load."""
    hasher = type(get_hasher())
    calls: list[str] = []
    encode = hasher.encode

    def counting(self: Any, password: str, *args: Any, **kwargs: Any) -> str:
        calls.append(password)
        return encode(self, password, *args, **kwargs)

    monkeypatch.setattr(hasher, "encode", counting)

    sign_in("alice", "not-the-password")
    for_wrong_password = len(calls)
    calls.clear()
    sign_in("nobody-here", "not-the-password")
    for_unknown_user = len(calls)

    assert for_wrong_password >= 1
    assert for_unknown_user == for_wrong_password


# --- Sessions end after the idle time ----------------------------------------------------


def test_a_session_ends_after_eight_idle_hours_and_each_request_pushes_the_end(
    alice: User, time_machine: Any
) -> None:
    time_machine.move_to(clock.now(), tick=False)
    client = Client()
    client.force_login(alice)
    assert client.get("/agent/").status_code == 200

    # Active all day: every request pushes the end 8 hours further.
    for _ in range(3):
        time_machine.shift(timedelta(hours=7, minutes=59))
        assert client.get("/agent/").status_code == 200

    time_machine.shift(timedelta(hours=8, minutes=1))
    answer = client.get("/agent/")

    assert answer.status_code == 302
    assert answer["Location"] == "/login/?next=/agent/"
    assert client.get("/api/v1/me/presence").status_code == 401


def test_requests_within_a_minute_do_not_rewrite_the_session(
    alice: User, time_machine: Any
) -> None:
    """A page refetching its lists on every change would otherwise write its session row
    each time; the end moves at most once a minute."""
    from django.contrib.sessions.models import Session

    time_machine.move_to(clock.now(), tick=False)
    client = Client()
    client.force_login(alice)
    client.get("/agent/")
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date

    time_machine.shift(timedelta(seconds=30))
    client.get("/agent/")
    assert Session.objects.get(session_key=key).expire_date == first

    time_machine.shift(timedelta(seconds=31))
    client.get("/agent/")
    assert Session.objects.get(session_key=key).expire_date == first + timedelta(seconds=61)


def test_the_idle_time_is_set_by_the_environment() -> None:
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.SESSION_COOKIE_AGE)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatdesk.settings"}

    def age(**extra: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return int(done.stdout.strip())

    assert age(CHATDESK_SESSION_IDLE_MINUTES="30") == 30 * 60
    env.pop("CHATDESK_SESSION_IDLE_MINUTES", None)
    assert age() == 8 * 60 * 60
    refused = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "CHATDESK_SESSION_IDLE_MINUTES": "soon"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0
    assert "CHATDESK_SESSION_IDLE_MINUTES must be a number" in refused.stderr


# --- Password rules ----------------------------------------------------------------------


def test_the_password_rules_are_on() -> None:
    names = [rule["NAME"].rsplit(".", 1)[1] for rule in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


def test_changing_a_password_through_the_api_follows_the_rules(
    api_as: Any, ada: User, alice: User
) -> None:
    """Creating a user with a weak password is refused in tests/api/test_users.py and
    tests/ops/test_createuser.py; changing one must be too, leaving the old one."""
    refused = api_as(ada).patch(f"/users/{alice.pk}", {"password": "alice123"})

    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("The password is too weak: ")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)

    accepted = api_as(ada).patch(f"/users/{alice.pk}", {"password": "plum-tree-harbour-42"})
    assert accepted.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password("plum-tree-harbour-42")


def test_api_calls_with_a_token_make_no_session(token_for: Any, alice: User) -> None:
    """The idle clock is the browser session's; a bearer token call has none to push."""
    from django.contrib.sessions.models import Session

    client = Client()
    headers = {"Authorization": f"Bearer {token_for(alice)}"}
    answer = client.get("/api/v1/me/presence", headers=headers)

    assert answer.status_code == 200
    assert "sessionid" not in answer.cookies
    assert Session.objects.count() == 0
