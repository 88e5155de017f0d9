"""/users: admins manage the desk's people; everyone signed in may list them."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from chatdesk.accounts.models import Connection, User
from chatdesk.core import clock
from tests.support.personas import PASSWORD

NEW_AGENT = {
    "username": "erin",
    "password": "plum-tree-harbour-42",
    "role": "agent",
    "department_ids": [],
    "capacity": 3,
    "display_name": "Erin Agent",
}


def test_admin_creates_an_agent_in_departments(api_as, ada, sales, support):
    response = api_as(ada).post("/users", {**NEW_AGENT, "department_ids": [sales.pk, support.pk]})

    assert response.status_code == 201, response.content
    body = response.json()
    erin = User.objects.get(username="erin")
    assert body == {
        "id": erin.pk,
        "username": "erin",
        "role": "agent",
        "department_ids": sorted([sales.pk, support.pk]),
        "capacity": 3,
        "presence": "offline",
        "online": False,
        "display_name": "Erin Agent",
        "is_active": True,
        "time_zone": "",
    }
    assert erin.check_password("plum-tree-harbour-42")
    assert erin.capacity == 3
    assert set(erin.departments.all()) == {sales, support}
    assert not erin.is_staff


def test_admin_creates_an_admin_who_gets_the_setup_pages(api_as, ada):
    response = api_as(ada).post("/users", {**NEW_AGENT, "username": "zed", "role": "admin"})

    assert response.status_code == 201, response.content
    zed = User.objects.get(username="zed")
    assert zed.role == "admin"
    assert zed.is_staff and zed.is_superuser


def test_omitted_fields_take_defaults(api_as, ada):
    response = api_as(ada).post("/users", {"username": "finn", "password": "plum-tree-harbour-42"})

    assert response.status_code == 201, response.content
    finn = User.objects.get(username="finn")
    assert (finn.role, finn.capacity, finn.display_name) == ("agent", 5, "")
    assert response.json()["department_ids"] == []


def test_weak_password_is_refused_with_djangos_reasons(api_as, ada):
    response = api_as(ada).post("/users", {**NEW_AGENT, "password": "12345"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The password is too weak: This password is too short. It must contain at "
        "least 8 characters. This password is too common. This password is entirely numeric."
    }
    assert not User.objects.filter(username="erin").exists()


def test_duplicate_username_is_a_conflict_whatever_the_case(api_as, ada, alice):
    response = api_as(ada).post("/users", {**NEW_AGENT, "username": "Alice"})

    assert response.status_code == 409
    assert response.json() == {"detail": "A user named 'Alice' already exists."}
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_unknown_department_is_refused_and_nothing_is_written(api_as, ada, sales):
    response = api_as(ada).post("/users", {**NEW_AGENT, "department_ids": [sales.pk, 9999]})

    assert response.status_code == 400
    assert response.json() == {"detail": "No department has the id 9999."}
    assert not User.objects.filter(username="erin").exists()


def test_bad_role_is_a_400(api_as, ada):
    response = api_as(ada).post("/users", {**NEW_AGENT, "role": "boss"})

    assert response.status_code == 400
    assert response.json() == {"detail": "role: Input should be 'agent', 'supervisor' or 'admin'."}
    assert not User.objects.filter(username="erin").exists()


def test_capacity_out_of_range_is_a_400(api_as, ada):
    for capacity in (0, 101):
        response = api_as(ada).post("/users", {**NEW_AGENT, "capacity": capacity})
        assert response.status_code == 400, capacity
        assert response.json()["detail"].startswith("capacity: Input should be")
    assert not User.objects.filter(username="erin").exists()


def test_missing_username_and_password_are_named(api_as, ada):
    response = api_as(ada).post("/users", {"role": "agent"})

    assert response.status_code == 400
    assert response.json() == {"detail": "username is required. password is required."}


def test_username_with_spaces_is_a_400(api_as, ada):
    response = api_as(ada).post("/users", {**NEW_AGENT, "username": "erin smith"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The username is not valid:")
    assert User.objects.count() == 1


def test_only_admins_create_users(api_as, alice, sam):
    for user in (alice, sam):
        response = api_as(user).post("/users", NEW_AGENT)
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
    assert not User.objects.filter(username="erin").exists()


def test_anonymous_gets_401(api_as, ada):
    for response in (
        api_as(None).get("/users"),
        api_as(None).post("/users", NEW_AGENT),
        api_as(None).get(f"/users/{ada.pk}"),
        api_as(None).patch(f"/users/{ada.pk}", {"capacity": 2}),
    ):
        assert response.status_code == 401
        assert response.json()["detail"].startswith("Sign in")
    assert not User.objects.filter(username="erin").exists()
    ada.refresh_from_db()
    assert ada.capacity == 5


def test_everyone_signed_in_lists_users_with_online_flag(api_as, alice, bob, dave, sam, sales):
    now = clock.now()
    Connection.objects.create(user=bob, channel_name="live", opened_at=now, last_seen_at=now)
    Connection.objects.create(
        user=dave,
        channel_name="stale",
        opened_at=now - timedelta(hours=1),
        last_seen_at=now - timedelta(minutes=10),
    )

    response = api_as(alice).get("/users")

    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()}
    assert list(rows) == ["alice", "bob", "dave", "sam"]
    assert rows["bob"]["online"] is True
    assert rows["dave"]["online"] is False
    assert rows["alice"]["online"] is False
    assert rows["alice"]["department_ids"] == [sales.pk]
    assert rows["sam"]["role"] == "supervisor"
    assert "password" not in response.content.decode()


def test_get_one_user(api_as, alice, bob, sales):
    response = api_as(alice).get(f"/users/{bob.pk}")

    assert response.status_code == 200
    assert response.json()["username"] == "bob"
    assert response.json()["display_name"] == "Bob Agent"
    assert response.json()["department_ids"] == [sales.pk]


def test_unknown_user_is_404(api_as, alice, ada):
    assert api_as(alice).get("/users/9999").json() == {"detail": "No user has the id 9999."}
    assert api_as(alice).get("/users/9999").status_code == 404
    response = api_as(ada).patch("/users/9999", {"capacity": 2})
    assert response.status_code == 404
    assert response.json() == {"detail": "No user has the id 9999."}


def test_admin_patches_only_what_is_sent(api_as, ada, alice, sales, support):
    response = api_as(ada).patch(
        f"/users/{alice.pk}", {"capacity": 8, "department_ids": [support.pk]}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["capacity"] == 8
    assert body["department_ids"] == [support.pk]
    alice.refresh_from_db()
    assert alice.capacity == 8
    assert list(alice.departments.all()) == [support]
    assert alice.display_name == "Alice Agent"
    assert alice.role == "agent"
    assert alice.check_password(PASSWORD)


def test_admin_renames_promotes_deactivates_and_resets_password(api_as, ada, alice):
    response = api_as(ada).patch(
        f"/users/{alice.pk}",
        {
            "username": "alice2",
            "role": "supervisor",
            "display_name": " Alice S ",
            "password": "new-lighthouse-keeper-7",
            "is_active": False,
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    alice.refresh_from_db()
    assert alice.username == "alice2"
    assert alice.role == "supervisor"
    assert alice.display_name == "Alice S"
    assert alice.check_password("new-lighthouse-keeper-7")
    assert alice.is_active is False


def test_patch_with_a_weak_password_changes_nothing(api_as, ada, alice):
    response = api_as(ada).patch(f"/users/{alice.pk}", {"capacity": 9, "password": "abc"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The password is too weak: ")
    assert "This password is too short." in response.json()["detail"]
    alice.refresh_from_db()
    assert alice.capacity == 5
    assert alice.check_password(PASSWORD)


def test_patch_with_an_unknown_department_changes_nothing(api_as, ada, alice, sales):
    response = api_as(ada).patch(f"/users/{alice.pk}", {"capacity": 9, "department_ids": [777]})

    assert response.status_code == 400
    assert response.json() == {"detail": "No department has the id 777."}
    alice.refresh_from_db()
    assert alice.capacity == 5
    assert list(alice.departments.all()) == [sales]


def test_patch_bad_role_or_capacity_is_a_400(api_as, ada, alice):
    assert api_as(ada).patch(f"/users/{alice.pk}", {"role": "owner"}).status_code == 400
    response = api_as(ada).patch(f"/users/{alice.pk}", {"capacity": 0})
    assert response.status_code == 400
    assert response.json() == {"detail": "capacity: Input should be greater than or equal to 1."}
    alice.refresh_from_db()
    assert (alice.role, alice.capacity) == ("agent", 5)


def test_patch_to_a_taken_username_is_a_conflict(api_as, ada, alice, bob):
    response = api_as(ada).patch(f"/users/{alice.pk}", {"username": "BOB"})

    assert response.status_code == 409
    assert response.json() == {"detail": "A user named 'BOB' already exists."}
    alice.refresh_from_db()
    assert alice.username == "alice"


def test_only_admins_patch_users(api_as, alice, bob, sam):
    for user in (alice, sam):
        response = api_as(user).patch(f"/users/{bob.pk}", {"capacity": 1})
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
    bob.refresh_from_db()
    assert bob.capacity == 5


def test_the_last_admin_cannot_be_demoted_or_deactivated(api_as, ada):
    for change in ({"role": "agent"}, {"is_active": False}):
        response = api_as(ada).patch(f"/users/{ada.pk}", change)
        assert response.status_code == 409
        assert response.json() == {
            "detail": "ada is the desk's last active admin; make another user an admin first."
        }
    ada.refresh_from_db()
    assert ada.role == "admin" and ada.is_active


def test_an_admin_can_step_down_when_another_remains(api_as, ada, alice):
    assert api_as(ada).patch(f"/users/{alice.pk}", {"role": "admin"}).status_code == 200

    response = api_as(ada).patch(f"/users/{ada.pk}", {"role": "supervisor"})

    assert response.status_code == 200, response.content
    ada.refresh_from_db()
    assert ada.role == "supervisor"
    assert not ada.is_superuser


def test_empty_password_is_refused_not_dropped(api_as, ada):
    response = api_as(ada).post("/users", {**NEW_AGENT, "password": ""})

    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "The password is too weak: This password is too short."
    )
    assert not User.objects.filter(username="erin").exists()


def test_listing_users_costs_the_same_queries_however_many(api_as, alice, sales, support):
    client = api_as(alice)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/users").json()) == 1
    for n in range(4):
        user = User.objects.create(username=f"agent{n}")
        user.departments.set([sales, support])

    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/users").json()) == 5

    assert len(many) == len(few)
