from __future__ import annotations

from chatdesk import __version__


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
        "checks": {"database": "ok", "channel_layer": "ok"},
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
    assert body["checks"] == {"database": "ok", "channel_layer": "error: RuntimeError"}


def test_readyz_refuses_other_methods(client, db):
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response.json()["detail"]
