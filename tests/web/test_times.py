"""Times in a person's zone: the one rule (today, another day, another year), DST, the
zone named in the title, whose zone a page uses (the user's, else the desk's), and the
desk's zone itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone

from chatdesk import config
from chatdesk.accounts.models import Role, User
from chatdesk.routing import services as routing_services
from chatdesk.routing.desk_zone import desk_time_zone
from chatdesk.routing.models import BusinessHours, Department
from chatdesk.web.times import shown_time, zone_for
from tests.support.personas import make_user

LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday; GMT in London


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def shown(value: datetime, zone: ZoneInfo, now: datetime = NOW) -> tuple[str, str, str]:
    with timezone.override(zone):
        time = shown_time(value, now=now)
    return time.text, time.full, time.iso


def test_today_shows_the_clock_alone_with_the_full_date_and_zone_in_the_title() -> None:
    assert shown(at(2026, 12, 7, 9, 5), LONDON) == (
        "09:05",
        "Monday 7 December 2026, 09:05 GMT (Europe/London)",
        "2026-12-07T09:05:00+00:00",
    )


def test_another_day_this_year_shows_the_weekday_and_date() -> None:
    assert shown(at(2026, 12, 3, 14, 5), LONDON)[0] == "Thu 3 Dec 14:05"
    assert shown(at(2026, 1, 1, 0, 0), LONDON)[0] == "Thu 1 Jan 00:00"


def test_another_year_shows_the_year_and_no_weekday() -> None:
    text, full, _ = shown(at(2025, 12, 3, 14, 5), LONDON)
    assert text == "3 Dec 2025 14:05"
    assert full == "Wednesday 3 December 2025, 14:05 GMT (Europe/London)"


def test_today_is_the_viewers_day_not_utcs() -> None:
    # 15:30 UTC on the 7th is 00:30 on the 8th in Tokyo: 14:00 UTC was yesterday there.
    now = at(2026, 12, 7, 15, 30)
    assert shown(at(2026, 12, 7, 14, 0), TOKYO, now)[0] == "Mon 7 Dec 23:00"
    assert shown(at(2026, 12, 7, 15, 10), TOKYO, now)[0] == "00:10"
    assert shown(at(2026, 12, 7, 14, 0), ZoneInfo("UTC"), now)[0] == "14:00"


def test_a_new_year_in_the_viewers_zone_shows_last_years_times_with_the_year() -> None:
    # 16:00 UTC on 31 December is already 2027 in Tokyo.
    now = at(2026, 12, 31, 16, 0)
    assert shown(at(2026, 12, 31, 14, 0), TOKYO, now)[0] == "31 Dec 2026 23:00"
    assert shown(at(2026, 12, 31, 14, 0), LONDON, now)[0] == "14:00"


def test_the_spring_change_in_london() -> None:
    now = at(2026, 3, 29, 12, 0)  # clocks go forward at 01:00 UTC
    assert shown(at(2026, 3, 29, 0, 59), LONDON, now) == (
        "00:59",
        "Sunday 29 March 2026, 00:59 GMT (Europe/London)",
        "2026-03-29T00:59:00+00:00",
    )
    assert shown(at(2026, 3, 29, 1, 0), LONDON, now) == (
        "02:00",
        "Sunday 29 March 2026, 02:00 BST (Europe/London)",
        "2026-03-29T02:00:00+01:00",
    )


def test_the_autumn_change_shows_the_same_clock_twice_told_apart_by_the_title() -> None:
    now = at(2026, 10, 25, 12, 0)  # clocks go back at 01:00 UTC: 01:30 happens twice
    first = shown(at(2026, 10, 25, 0, 30), LONDON, now)
    second = shown(at(2026, 10, 25, 1, 30), LONDON, now)
    assert first[0] == second[0] == "01:30"
    assert first[1] == "Sunday 25 October 2026, 01:30 BST (Europe/London)"
    assert second[1] == "Sunday 25 October 2026, 01:30 GMT (Europe/London)"
    assert (first[2], second[2]) == ("2026-10-25T01:30:00+01:00", "2026-10-25T01:30:00+00:00")


def test_utc_is_named_once() -> None:
    assert shown(at(2026, 12, 7, 9, 5), ZoneInfo("UTC"))[1] == "Monday 7 December 2026, 09:05 UTC"


def test_the_when_tag_writes_a_time_element(time_machine: Any) -> None:
    time_machine.move_to(at(2026, 12, 7, 12, 0), tick=False)  # 21:00 in Tokyo
    template = Template('{% load times %}{% when t %}|{% when t "muted small" %}|{% when none %}')
    with timezone.override(TOKYO):
        html = template.render(Context({"t": at(2026, 12, 7, 9, 5), "none": None}))
    title = "Monday 7 December 2026, 18:05 JST (Asia/Tokyo)"
    assert html == (
        f'<time datetime="2026-12-07T18:05:00+09:00" title="{title}">18:05</time>|'
        f'<time class="muted small" datetime="2026-12-07T18:05:00+09:00" title="{title}">'
        "18:05</time>|"
    )


# --- Whose zone --------------------------------------------------------------------------


def test_a_users_own_zone_overrides_the_desks(db: Any, sales: Department) -> None:
    routing_services.set_business_hours(
        department=None, timezone="Europe/London", weekly=[], exceptions=[], by=None
    )
    alice = make_user("alice", Role.AGENT, sales)
    assert zone_for(alice) == LONDON
    assert zone_for(None) == LONDON
    User.objects.filter(pk=alice.pk).update(time_zone="Asia/Tokyo")
    alice.refresh_from_db()
    assert zone_for(alice) == TOKYO


def test_a_stored_zone_the_server_cannot_load_falls_back_to_the_desks(
    db: Any, sales: Department
) -> None:
    alice = make_user("alice", Role.AGENT, sales)
    User.objects.filter(pk=alice.pk).update(time_zone="Mars/Olympus")
    alice.refresh_from_db()
    assert zone_for(alice) == ZoneInfo("UTC")


def test_the_desks_zone_is_the_desk_wide_business_hours_zone(db: Any, sales: Department) -> None:
    assert desk_time_zone() == ZoneInfo("UTC")
    # A department's own hours are not the desk's.
    routing_services.set_business_hours(
        department=sales, timezone="Asia/Tokyo", weekly=[], exceptions=[], by=None
    )
    assert desk_time_zone() == ZoneInfo("UTC")
    routing_services.set_business_hours(
        department=None, timezone="Europe/London", weekly=[], exceptions=[], by=None
    )
    assert desk_time_zone() == LONDON
    routing_services.clear_business_hours(department=None, by=None)
    assert desk_time_zone() == ZoneInfo("UTC")


def test_an_unloadable_business_hours_zone_makes_the_desk_utc(db: Any) -> None:
    BusinessHours.objects.create(department=None, timezone="Mars/Olympus")
    assert desk_time_zone() == ZoneInfo("UTC")


def test_chatdesk_time_zone_wins_over_the_business_hours(db: Any) -> None:
    BusinessHours.objects.create(department=None, timezone="Europe/London")
    with override_settings(CHATDESK_TIME_ZONE="America/New_York"):
        assert desk_time_zone() == ZoneInfo("America/New_York")
    assert desk_time_zone() == LONDON


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "x" * 100])
def test_chatdesk_time_zone_must_be_a_zone(tmp_path: Any, name: str) -> None:
    with pytest.raises(config.ConfigError, match="CHATDESK_TIME_ZONE must be a time zone"):
        config.load({"CHATDESK_VAR_DIR": str(tmp_path), "CHATDESK_TIME_ZONE": name})
    loaded = config.load({"CHATDESK_VAR_DIR": str(tmp_path), "CHATDESK_TIME_ZONE": " Asia/Tokyo "})
    assert loaded.time_zone == "Asia/Tokyo"
