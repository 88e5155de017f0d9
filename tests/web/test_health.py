from __future__ import annotations

from datetime import time

from chatdesk import __version__
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.routing.models import BusinessHours, WeeklyInterval
from chatdesk.routing.services import set_business_hours


def test_healthz_answers_without_looking_at_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "version": __version__}


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


def test_readyz_checks_the_database_and_the_channel_layer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "channel_layer": "ok", "configuration": "ok"},
        "problems": [],
    }


def test_readyz_is_503_with_the_reason_when_the_channel_layer_fails(client, db, monkeypatch):
    from chatdesk.ops import health

    def no_layer() -> None:
        return None

    monkeypatch.setattr(health, "get_channel_layer", no_layer)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {
        "database": "ok",
        "channel_layer": "error: RuntimeError",
        "configuration": "ok",
    }


def test_readyz_refuses_other_methods(client, db):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json()["detail"]


def test_readyz_names_stored_settings_the_desk_cannot_use_but_stays_200(client, db, sales):
    # Stored without the service's checks (an older version, or SQL by hand).
    desk = BusinessHours.objects.create(department=None, timezone="Mars/Olympus")
    WeeklyInterval.objects.create(business_hours=desk, day=0, start=time(9), end=time(17))
    unsigned = Channel.objects.create(kind=ChannelKind.WHATSAPP, name="WA Sales", secrets={})
    Channel.objects.create(kind=ChannelKind.SMS, name="Old SMS", is_active=False)  # no webhook
    response = client.get("/readyz")
    # The instance can serve, and messages are taken: not a reason to leave the rotation.
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {
        "database": "ok",
        "channel_layer": "ok",
        "configuration": "degraded: 2 problem(s)",
    }
    hours_problem, channel_problem = body["problems"]
    assert (hours_problem["object"], hours_problem["id"]) == ("business_hours", desk.pk)
    assert (channel_problem["object"], channel_problem["id"]) == ("channel", unsigned.pk)
    # Anyone may ask /readyz: what the set-up pages say of each (names, the zone) stays there.
    assert "Mars/Olympus" not in response.text and "WA Sales" not in response.text

    # Corrected through the service: ready and ok again.
    set_business_hours(
        department=None, timezone="Africa/Johannesburg", weekly=[], exceptions=[], by=None
    )
    unsigned.delete()
    again = client.get("/readyz").json()
    assert (again["status"], again["checks"]["configuration"], again["problems"]) == (
        "ok",
        "ok",
        [],
    )
