"""/me/presence: each user reads and sets their own presence; online is separate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from chatdesk.accounts.models import Connection
from chatdesk.core import clock


def test_presence_starts_offline_and_not_online(api_as, alice):
    response = api_as(alice).get("/me/presence")

    assert response.status_code == 200
    assert response.json() == {"status": "offline", "online": False}


def test_online_follows_a_fresh_connection(api_as, alice):
    now = clock.now()
    Connection.objects.create(user=alice, channel_name="tab", opened_at=now, last_seen_at=now)

    assert api_as(alice).get("/me/presence").json() == {"status": "offline", "online": True}


def test_a_stale_connection_is_not_online(api_as, alice):
    old = clock.now() - timedelta(minutes=5)
    Connection.objects.create(user=alice, channel_name="tab", opened_at=old, last_seen_at=old)

    assert api_as(alice).get("/me/presence").json()["online"] is False


def test_agent_sets_presence(api_as, alice, bob):
    with time_machine.travel("2025-03-04 10:00:00Z", tick=False):
        response = api_as(alice).put("/me/presence", {"status": "available"})

    assert response.status_code == 200
    assert response.json() == {"status": "available", "online": False}
    alice.refresh_from_db()
    assert alice.presence == "available"
    assert alice.presence_changed_at == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    bob.refresh_from_db()
    assert bob.presence == "offline"
    assert api_as(alice).get("/me/presence").json()["status"] == "available"


def test_each_status_round_trips(api_as, sam):
    for status in ("away", "available", "offline"):
        response = api_as(sam).put("/me/presence", {"status": status})
        assert response.status_code == 200
        sam.refresh_from_db()
        assert sam.presence == status


def test_bad_status_is_a_400_and_changes_nothing(api_as, alice):
    response = api_as(alice).put("/me/presence", {"status": "busy"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "status: Input should be 'available', 'away' or 'offline'."
    }
    alice.refresh_from_db()
    assert alice.presence == "offline"


def test_missing_status_is_a_400(api_as, alice):
    response = api_as(alice).put("/me/presence", {})

    assert response.status_code == 400
    assert response.json() == {"detail": "status is required."}


def test_anonymous_gets_401(api_as, db):
    assert api_as(None).get("/me/presence").status_code == 401
    response = api_as(None).put("/me/presence", {"status": "available"})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Sign in")
