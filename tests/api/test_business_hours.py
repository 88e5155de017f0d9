"""/business-hours: the desk's weekly schedule and dated exceptions, or a department's."""

from __future__ import annotations

from datetime import date, time

import pytest

from chatdesk.routing.models import BusinessHours, DatedException, WeeklyInterval

SCHEDULE = {
    "timezone": "Africa/Johannesburg",
    "weekly": [
        {"day": 0, "start": "08:00", "end": "17:00"},
        {"day": 4, "start": "08:00", "end": "12:30"},
        {"day": 5, "start": "22:00", "end": "02:00"},
    ],
    "exceptions": [
        {"date": "2025-12-25", "closed": True},
        {"date": "2025-12-31", "start": "09:00", "end": "13:00"},
    ],
}


def test_nothing_stored_means_always_open_in_utc(api_as, alice):
    response = api_as(alice).get("/business-hours")

    assert response.status_code == 200
    assert response.json() == {"timezone": "UTC", "weekly": [], "exceptions": []}


def test_admin_sets_the_desks_schedule_and_gets_the_same_back(api_as, ada, alice):
    response = api_as(ada).put("/business-hours", SCHEDULE)

    assert response.status_code == 200, response.content
    assert response.json() == SCHEDULE
    assert api_as(alice).get("/business-hours").json() == SCHEDULE
    hours = BusinessHours.objects.get()
    assert hours.department is None
    assert hours.timezone == "Africa/Johannesburg"
    assert [(i.day, i.start, i.end) for i in hours.weekly.all()] == [
        (0, time(8), time(17)),
        (4, time(8), time(12, 30)),
        (5, time(22), time(2)),
    ]
    assert [(e.date, e.closed, e.start, e.end) for e in hours.exceptions.all()] == [
        (date(2025, 12, 25), True, None, None),
        (date(2025, 12, 31), False, time(9), time(13)),
    ]


def test_put_replaces_the_whole_schedule(api_as, ada):
    api_as(ada).put("/business-hours", SCHEDULE)

    response = api_as(ada).put("/business-hours", {"timezone": "Europe/London", "weekly": []})

    assert response.status_code == 200
    assert response.json() == {"timezone": "Europe/London", "weekly": [], "exceptions": []}
    assert BusinessHours.objects.count() == 1
    assert not WeeklyInterval.objects.exists()
    assert not DatedException.objects.exists()


def test_a_department_gets_its_own_schedule(api_as, ada, alice, sales, support):
    desk = {"timezone": "UTC", "weekly": [{"day": 1, "start": "09:00", "end": "17:00"}]}
    api_as(ada).put("/business-hours", desk)
    own = {
        "timezone": "Europe/London",
        "weekly": [{"day": 2, "start": "10:00", "end": "11:00"}],
        "exceptions": [],
    }

    response = api_as(ada).put(f"/business-hours?department_id={sales.pk}", own)

    assert response.status_code == 200, response.content
    assert response.json() == own
    assert BusinessHours.objects.get(department=sales).timezone == "Europe/London"
    assert BusinessHours.objects.get(department__isnull=True).timezone == "UTC"
    assert api_as(alice).get("/business-hours", department_id=sales.pk).json() == own
    # Support has none of its own: the desk's applies to it.
    assert api_as(alice).get("/business-hours", department_id=support.pk).json() == {
        **desk,
        "exceptions": [],
    }
    assert api_as(alice).get("/business-hours").json() == {**desk, "exceptions": []}


def test_admin_drops_a_departments_override(api_as, ada, sales):
    api_as(ada).put(f"/business-hours?department_id={sales.pk}", SCHEDULE)
    client = api_as(ada)

    response = client.client.delete(
        f"/api/v1/business-hours?department_id={sales.pk}", headers=client.headers
    )

    assert response.status_code == 204
    assert not BusinessHours.objects.filter(department=sales).exists()


def test_the_desks_schedule_cannot_be_deleted(api_as, ada):
    api_as(ada).put("/business-hours", SCHEDULE)
    client = api_as(ada)

    response = client.client.delete("/api/v1/business-hours", headers=client.headers)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Give the department_id")
    assert BusinessHours.objects.filter(department__isnull=True).exists()


@pytest.mark.parametrize("bad", ["25:00", "9am", "9:00", "12:60", "08:00:00", ""])
def test_times_must_be_hh_mm(api_as, ada, bad):
    schedule = {"timezone": "UTC", "weekly": [{"day": 0, "start": bad, "end": "17:00"}]}

    response = api_as(ada).put("/business-hours", schedule)

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"weekly.0.start: use a time as HH:MM, from 00:00 to 23:59; got {bad!r}."
    }
    assert not BusinessHours.objects.exists()


def test_exception_times_are_checked_too(api_as, ada):
    schedule = {
        "timezone": "UTC",
        "exceptions": [{"date": "2025-01-01", "start": "10:00", "end": "24:00"}],
    }

    response = api_as(ada).put("/business-hours", schedule)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "exceptions.0.end: use a time as HH:MM, from 00:00 to 23:59; got '24:00'."
    }


def test_unknown_timezone_is_a_400(api_as, ada):
    response = api_as(ada).put("/business-hours", {**SCHEDULE, "timezone": "Mars/Olympus"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "'Mars/Olympus' is not a time zone; use an IANA name such as "
        "'Africa/Johannesburg' or 'Europe/London'."
    }
    assert not BusinessHours.objects.exists()


def test_day_must_be_0_to_6(api_as, ada):
    schedule = {"timezone": "UTC", "weekly": [{"day": 7, "start": "09:00", "end": "17:00"}]}

    response = api_as(ada).put("/business-hours", schedule)

    assert response.status_code == 400
    assert response.json() == {"detail": "weekly.0.day: Input should be less than or equal to 6."}


def test_an_exception_needs_closed_or_hours(api_as, ada):
    response = api_as(ada).put(
        "/business-hours", {"timezone": "UTC", "exceptions": [{"date": "2025-05-01"}]}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The exception on 2025-05-01 needs either closed: true or both start and end."
    }


def test_bad_input_leaves_the_old_schedule_whole(api_as, ada):
    api_as(ada).put("/business-hours", SCHEDULE)

    response = api_as(ada).put(
        "/business-hours",
        {
            "timezone": "UTC",
            "weekly": [{"day": 1, "start": "09:00", "end": "09:00"}],
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The interval on day 1 starts and ends at 09:00; give it a length."
    }
    assert api_as(ada).get("/business-hours").json() == SCHEDULE
    assert WeeklyInterval.objects.count() == 3


def test_missing_timezone_is_named(api_as, ada):
    response = api_as(ada).put("/business-hours", {"weekly": []})

    assert response.status_code == 400
    assert response.json() == {"detail": "timezone is required."}


def test_only_admins_set_business_hours(api_as, alice, sam, sales):
    for user in (alice, sam):
        response = api_as(user).put("/business-hours", SCHEDULE)
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
        client = api_as(user)
        delete = client.client.delete(
            f"/api/v1/business-hours?department_id={sales.pk}", headers=client.headers
        )
        assert delete.status_code == 403
    assert not BusinessHours.objects.exists()


def test_anonymous_gets_401(api_as, db):
    assert api_as(None).get("/business-hours").status_code == 401
    response = api_as(None).put("/business-hours", SCHEDULE)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Sign in")
    assert not BusinessHours.objects.exists()


def test_unknown_department_is_404(api_as, ada, alice):
    response = api_as(alice).get("/business-hours", department_id=9999)
    assert response.status_code == 404
    assert response.json() == {"detail": "No department has the id 9999."}

    put = api_as(ada).put("/business-hours?department_id=9999", SCHEDULE)
    assert put.status_code == 404
    assert not BusinessHours.objects.exists()
