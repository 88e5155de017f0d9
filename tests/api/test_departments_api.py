from __future__ import annotations

from chatdesk.routing.models import Department


def test_admin_creates_a_department(api_as, ada):
    response = api_as(ada).post("/departments", {"name": "  Billing "})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Billing"
    assert Department.objects.get(pk=body["id"]).name == "Billing"


def test_everyone_signed_in_lists_departments(api_as, alice, sales, support):
    response = api_as(alice).get("/departments")
    assert response.status_code == 200
    assert [d["name"] for d in response.json()] == ["Sales", "Support"]


def test_anonymous_gets_401_with_a_sentence(api_as, db):
    response = api_as(None).get("/departments")
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


def test_agent_cannot_create_a_department(api_as, alice):
    response = api_as(alice).post("/departments", {"name": "Billing"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an admin can change the desk's set-up."
    assert not Department.objects.filter(name="Billing").exists()


def test_duplicate_name_is_a_conflict(api_as, ada, sales):
    response = api_as(ada).post("/departments", {"name": "sales"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
    assert Department.objects.count() == 1


def test_missing_name_is_a_400_sentence(api_as, ada):
    response = api_as(ada).post("/departments", {})
    assert response.status_code == 400
    assert response.json() == {"detail": "name is required."}


def test_malformed_json_is_a_400(api_as, ada):
    client = api_as(ada)
    response = client.client.post(
        "/api/v1/departments", "{not json", content_type="application/json", headers=client.headers
    )
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_nul_character_is_refused_with_a_sentence_and_nothing_is_written(api_as, ada):
    from django.db import connection

    from chatdesk.routing.models import Department

    before = Department.objects.count()
    response = api_as(ada).post("/departments", {"name": "Sales", "description": "a\x00b"})
    if connection.vendor == "postgresql":  # PostgreSQL refuses NUL in text; SQLite keeps it
        assert response.status_code == 400
        assert "NUL characters" in response.json()["detail"]
        assert Department.objects.count() == before
    else:
        assert response.status_code == 201
