"""Business hours: the pure rules, DST days, next_opening, and the database-facing check."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from chatdesk.routing import services
from chatdesk.routing.hours import (
    DatedHours,
    Interval,
    Schedule,
    is_open,
    is_within_business_hours,
    next_opening,
    schedule_for,
)
from chatdesk.routing.models import Department

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
JOBURG = ZoneInfo("Africa/Johannesburg")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def hhmm(text: str) -> time:
    return time.fromisoformat(text)


def weekdays(start: str = "09:00", end: str = "17:00") -> tuple[Interval, ...]:
    return tuple(Interval(day, hhmm(start), hhmm(end)) for day in range(MON, SAT))


def schedule(
    zone: str = "UTC",
    weekly: tuple[Interval, ...] = (),
    exceptions: tuple[DatedHours, ...] = (),
) -> Schedule:
    return Schedule(timezone=zone, weekly=weekly, exceptions=exceptions)


OFFICE = schedule(weekly=weekdays())  # Mon-Fri 09:00-17:00 UTC
# 2026-06-01 is a Monday, 2026-06-05 a Friday.


# -- weekly intervals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 6, 1, 8, 59, 59), False),
        (utc(2026, 6, 1, 9, 0), True),  # start is inclusive
        (utc(2026, 6, 1, 12, 0), True),
        (utc(2026, 6, 1, 16, 59, 59), True),
        (utc(2026, 6, 1, 17, 0), False),  # end is exclusive
        (utc(2026, 6, 5, 16, 0), True),  # Friday
        (utc(2026, 6, 6, 12, 0), False),  # Saturday
        (utc(2026, 6, 7, 12, 0), False),  # Sunday
    ],
)
def test_weekday_edges(at: datetime, expected: bool) -> None:
    assert is_open(OFFICE, at) is expected


def test_split_day_has_a_gap() -> None:
    lunch = schedule(
        weekly=(
            Interval(MON, hhmm("09:00"), hhmm("12:00")),
            Interval(MON, hhmm("13:00"), hhmm("17:00")),
        )
    )
    assert is_open(lunch, utc(2026, 6, 1, 11, 59))
    assert not is_open(lunch, utc(2026, 6, 1, 12, 30))
    assert is_open(lunch, utc(2026, 6, 1, 13, 0))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 6, 5, 21, 59, 59), False),
        (utc(2026, 6, 5, 22, 0), True),
        (utc(2026, 6, 5, 23, 59, 59), True),
        (utc(2026, 6, 6, 0, 0), True),  # past midnight into Saturday
        (utc(2026, 6, 6, 1, 0), True),
        (utc(2026, 6, 6, 1, 59, 59), True),
        (utc(2026, 6, 6, 2, 0), False),
        (utc(2026, 6, 6, 22, 30), False),  # Saturday night is not Friday night
        (utc(2026, 6, 5, 1, 0), False),  # no Thursday interval, so no tail on Friday
    ],
)
def test_overnight_interval(at: datetime, expected: bool) -> None:
    late = schedule(weekly=(Interval(FRI, hhmm("22:00"), hhmm("02:00")),))
    assert is_open(late, at) is expected


def test_sunday_night_wraps_into_monday() -> None:
    night = schedule(weekly=(Interval(SUN, hhmm("20:00"), hhmm("06:00")),))
    assert not is_open(night, utc(2026, 6, 7, 19, 59))
    assert is_open(night, utc(2026, 6, 7, 20, 0))
    assert is_open(night, utc(2026, 6, 8, 5, 59))  # Monday
    assert not is_open(night, utc(2026, 6, 8, 6, 0))
    assert not is_open(night, utc(2026, 6, 1, 20, 0))  # a Monday evening


def test_end_at_midnight_means_until_midnight() -> None:
    evening = schedule(weekly=(Interval(SAT, hhmm("18:00"), hhmm("00:00")),))
    assert is_open(evening, utc(2026, 6, 6, 23, 59, 59))
    assert not is_open(evening, utc(2026, 6, 7, 0, 0))
    assert not is_open(evening, utc(2026, 6, 6, 17, 59))


def test_empty_weekly_is_always_open() -> None:
    always = schedule(zone="Europe/London")
    for at in (utc(2026, 6, 1, 0, 0), utc(2026, 6, 6, 3, 33), utc(2026, 3, 29, 1, 0)):
        assert is_open(always, at)


def test_empty_weekly_still_honours_exceptions() -> None:
    always = schedule(
        exceptions=(
            DatedHours(date(2026, 12, 25), closed=True),
            DatedHours(date(2026, 12, 31), closed=False, start=hhmm("08:00"), end=hhmm("12:00")),
        )
    )
    assert is_open(always, utc(2026, 12, 24, 23, 59))
    assert not is_open(always, utc(2026, 12, 25, 0, 0))
    assert not is_open(always, utc(2026, 12, 25, 23, 59))
    assert is_open(always, utc(2026, 12, 26, 0, 0))
    assert not is_open(always, utc(2026, 12, 31, 7, 59))
    assert is_open(always, utc(2026, 12, 31, 8, 0))
    assert not is_open(always, utc(2026, 12, 31, 12, 0))
    assert is_open(always, utc(2027, 1, 1, 0, 0))


# -- dated exceptions ---------------------------------------------------------------------


def test_holiday_is_closed_all_day() -> None:
    holiday = schedule(weekly=weekdays(), exceptions=(DatedHours(date(2026, 12, 25), closed=True),))
    assert not is_open(holiday, utc(2026, 12, 25, 10, 0))  # a Friday
    assert is_open(holiday, utc(2026, 12, 24, 10, 0))
    assert is_open(holiday, utc(2026, 12, 28, 10, 0))


def test_special_hours_replace_the_days_weekly_hours() -> None:
    short = schedule(
        weekly=weekdays(),
        exceptions=(
            DatedHours(date(2026, 12, 24), closed=False, start=hhmm("10:00"), end=hhmm("13:00")),
            DatedHours(date(2026, 12, 26), closed=False, start=hhmm("10:00"), end=hhmm("12:00")),
        ),
    )
    assert not is_open(short, utc(2026, 12, 24, 9, 30))
    assert is_open(short, utc(2026, 12, 24, 10, 0))
    assert is_open(short, utc(2026, 12, 24, 12, 59))
    assert not is_open(short, utc(2026, 12, 24, 13, 0))
    assert not is_open(short, utc(2026, 12, 24, 15, 0))
    assert is_open(short, utc(2026, 12, 26, 11, 0))  # a Saturday, open specially
    assert is_open(short, utc(2026, 12, 23, 15, 0))  # other days keep their hours


def test_special_hours_may_run_past_midnight() -> None:
    party = schedule(
        weekly=weekdays(),
        exceptions=(
            DatedHours(date(2026, 12, 31), closed=False, start=hhmm("20:00"), end=hhmm("03:00")),
        ),
    )
    assert not is_open(party, utc(2026, 12, 31, 10, 0))
    assert is_open(party, utc(2026, 12, 31, 22, 0))
    assert is_open(party, utc(2027, 1, 1, 2, 59))
    assert not is_open(party, utc(2027, 1, 1, 3, 0))
    assert is_open(party, utc(2027, 1, 1, 10, 0))  # Friday's weekly hours


def test_closed_date_cuts_the_previous_nights_tail_at_midnight() -> None:
    late = schedule(
        weekly=(Interval(THU, hhmm("22:00"), hhmm("02:00")),),
        exceptions=(DatedHours(date(2026, 12, 25), closed=True),),
    )
    assert is_open(late, utc(2026, 12, 24, 23, 59))
    assert not is_open(late, utc(2026, 12, 25, 1, 0))


def test_special_hours_keep_the_previous_nights_tail() -> None:
    late = schedule(
        weekly=(Interval(THU, hhmm("22:00"), hhmm("02:00")),),
        exceptions=(
            DatedHours(date(2026, 12, 25), closed=False, start=hhmm("10:00"), end=hhmm("12:00")),
        ),
    )
    assert is_open(late, utc(2026, 12, 25, 1, 0))
    assert not is_open(late, utc(2026, 12, 25, 2, 0))
    assert is_open(late, utc(2026, 12, 25, 11, 0))


def test_closed_date_drops_its_own_overnight_interval() -> None:
    late = schedule(
        weekly=(Interval(THU, hhmm("22:00"), hhmm("02:00")),),
        exceptions=(DatedHours(date(2026, 12, 24), closed=True),),
    )
    assert not is_open(late, utc(2026, 12, 24, 23, 0))
    assert not is_open(late, utc(2026, 12, 25, 1, 0))


# -- time zones and DST -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 6, 1, 5, 59, 59), False),  # 07:59:59 SAST
        (utc(2026, 6, 1, 6, 0), True),  # 08:00 SAST
        (utc(2026, 6, 1, 14, 59, 59), True),
        (utc(2026, 6, 1, 15, 0), False),  # 17:00 SAST
        (utc(2026, 6, 5, 22, 30), False),  # Saturday 00:30 SAST
        (utc(2026, 6, 7, 22, 30), False),  # Monday 00:30 SAST
        (datetime(2026, 6, 1, 2, 0, tzinfo=NEW_YORK), True),  # 08:00 SAST, any zone works
    ],
)
def test_johannesburg_against_utc_instants(at: datetime, expected: bool) -> None:
    joburg = schedule(zone="Africa/Johannesburg", weekly=weekdays("08:00", "17:00"))
    assert is_open(joburg, at) is expected


SUNDAY_OFFICE = (Interval(SUN, hhmm("09:00"), hhmm("17:00")),)


def test_london_spring_forward_keeps_wall_clock_hours() -> None:
    london = schedule(zone="Europe/London", weekly=SUNDAY_OFFICE)  # 2026-03-29, BST from 01:00 UTC
    assert not is_open(london, utc(2026, 3, 29, 7, 59, 59))
    assert is_open(london, utc(2026, 3, 29, 8, 0))  # 09:00 BST
    assert is_open(london, datetime(2026, 3, 29, 9, 0, tzinfo=LONDON))
    assert is_open(london, utc(2026, 3, 29, 15, 59))
    assert not is_open(london, utc(2026, 3, 29, 16, 0))  # 17:00 BST


def test_london_spring_forward_gap() -> None:
    # 01:00-02:00 local does not exist on 2026-03-29; an interval starting inside the gap
    # opens at the change (01:00 UTC, 02:00 BST).
    early = schedule(zone="Europe/London", weekly=(Interval(SUN, hhmm("01:30"), hhmm("04:00")),))
    assert not is_open(early, utc(2026, 3, 29, 0, 59, 59))  # 00:59:59 GMT
    assert is_open(early, utc(2026, 3, 29, 1, 0))  # 02:00 BST
    assert is_open(early, utc(2026, 3, 29, 2, 59))
    assert not is_open(early, utc(2026, 3, 29, 3, 0))  # 04:00 BST
    # A nonexistent local time is read as PEP 495 says (fold=0: 01:30 GMT = 02:30 BST).
    for fold in (0, 1):
        inside_gap = datetime(2026, 3, 29, 1, 30, tzinfo=LONDON, fold=fold)
        assert is_open(early, inside_gap) is (fold == 0)
        assert is_open(schedule(zone="Europe/London", weekly=SUNDAY_OFFICE), inside_gap) is False
    assert next_opening(early, utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)


def test_london_fall_back_keeps_wall_clock_hours() -> None:
    london = schedule(zone="Europe/London", weekly=SUNDAY_OFFICE)  # 2026-10-25, GMT from 01:00 UTC
    assert not is_open(london, utc(2026, 10, 25, 8, 59, 59))
    assert is_open(london, utc(2026, 10, 25, 9, 0))  # 09:00 GMT
    assert is_open(london, utc(2026, 10, 25, 16, 59))
    assert not is_open(london, utc(2026, 10, 25, 17, 0))


def test_london_fall_back_ambiguous_hour_counts_twice() -> None:
    # 01:00-02:00 local happens twice on 2026-10-25: 00:00-01:00 UTC (BST), 01:00-02:00 UTC (GMT).
    early = schedule(zone="Europe/London", weekly=(Interval(SUN, hhmm("01:00"), hhmm("01:45")),))
    assert is_open(early, utc(2026, 10, 25, 0, 30))  # 01:30 BST
    assert not is_open(early, utc(2026, 10, 25, 0, 50))  # 01:50 BST
    assert is_open(early, utc(2026, 10, 25, 1, 0))  # 01:00 GMT: the same wall clock again
    assert is_open(early, utc(2026, 10, 25, 1, 30))  # 01:30 GMT
    assert not is_open(early, utc(2026, 10, 25, 1, 45))
    for fold in (0, 1):
        assert is_open(early, datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=fold))
    assert next_opening(early, utc(2026, 10, 25, 0, 50)) == utc(2026, 10, 25, 1, 0)


def test_new_york_spring_forward() -> None:
    ny = schedule(zone="America/New_York", weekly=SUNDAY_OFFICE)  # 2026-03-08, EDT from 07:00 UTC
    assert not is_open(ny, utc(2026, 3, 8, 12, 59))
    assert is_open(ny, utc(2026, 3, 8, 13, 0))  # 09:00 EDT
    assert is_open(ny, utc(2026, 3, 8, 20, 59))
    assert not is_open(ny, utc(2026, 3, 8, 21, 0))  # 17:00 EDT
    inside_gap = datetime(2026, 3, 8, 2, 30, tzinfo=NEW_YORK)  # does not exist
    assert is_open(ny, inside_gap) is False
    night = schedule(zone="America/New_York", weekly=(Interval(SAT, hhmm("22:00"), hhmm("02:30")),))
    # The tail would end at 02:30, inside the gap: it ends at the change (07:00 UTC).
    assert is_open(night, utc(2026, 3, 8, 6, 59, 59))  # 01:59:59 EST
    assert not is_open(night, utc(2026, 3, 8, 7, 0))  # 03:00 EDT
    assert is_open(night, inside_gap) is False  # read as 03:30 EDT


def test_new_york_fall_back() -> None:
    ny = schedule(zone="America/New_York", weekly=SUNDAY_OFFICE)  # 2026-11-01, EST from 06:00 UTC
    assert not is_open(ny, utc(2026, 11, 1, 13, 59))
    assert is_open(ny, utc(2026, 11, 1, 14, 0))  # 09:00 EST
    assert not is_open(ny, utc(2026, 11, 1, 22, 0))  # 17:00 EST
    early = schedule(zone="America/New_York", weekly=(Interval(SUN, hhmm("01:00"), hhmm("02:00")),))
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=0)
    second = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1)
    assert first.astimezone(UTC) == utc(2026, 11, 1, 5, 30)
    assert second.astimezone(UTC) == utc(2026, 11, 1, 6, 30)
    assert is_open(early, first) and is_open(early, second)
    assert is_open(early, utc(2026, 11, 1, 5, 0))  # 01:00 EDT
    assert is_open(early, utc(2026, 11, 1, 6, 59))  # 01:59 EST
    assert not is_open(early, utc(2026, 11, 1, 7, 0))  # 02:00 EST
    assert not is_open(early, utc(2026, 11, 1, 4, 59))  # 00:59 EDT


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(OFFICE, datetime(2026, 6, 1, 10, 0))


# -- next_opening -------------------------------------------------------------------------


def test_next_opening_when_open_is_now() -> None:
    at = utc(2026, 6, 1, 10, 0)
    assert next_opening(OFFICE, at) == at
    assert next_opening(schedule(), at) == at


def test_next_opening_later_the_same_day() -> None:
    assert next_opening(OFFICE, utc(2026, 6, 1, 7, 0)) == utc(2026, 6, 1, 9, 0)


def test_next_opening_across_a_weekend() -> None:
    friday_evening = utc(2026, 6, 5, 17, 0)
    assert next_opening(OFFICE, friday_evening) == utc(2026, 6, 8, 9, 0)
    assert next_opening(OFFICE, utc(2026, 6, 6, 12, 0)) == utc(2026, 6, 8, 9, 0)


def test_next_opening_across_a_holiday() -> None:
    holiday = schedule(
        weekly=weekdays(),
        exceptions=(
            DatedHours(date(2026, 12, 25), closed=True),
            DatedHours(date(2026, 12, 28), closed=True),
        ),
    )
    assert next_opening(holiday, utc(2026, 12, 24, 17, 0)) == utc(2026, 12, 29, 9, 0)


def test_next_opening_after_a_closed_day_of_an_always_open_schedule() -> None:
    always = schedule(exceptions=(DatedHours(date(2026, 12, 25), closed=True),))
    assert next_opening(always, utc(2026, 12, 25, 10, 0)) == utc(2026, 12, 26, 0, 0)


def test_next_opening_keeps_the_callers_time_zone_and_follows_the_schedules() -> None:
    london = schedule(zone="Europe/London", weekly=weekdays())
    at = datetime(2026, 3, 29, 6, 0, tzinfo=JOBURG)  # Sunday
    opening = next_opening(london, at)
    assert opening == utc(2026, 3, 30, 8, 0)  # Monday 09:00 BST
    assert opening is not None and opening.tzinfo is JOBURG
    # Just before the autumn change the next opening is in GMT.
    assert next_opening(london, utc(2026, 10, 23, 17, 0)) == utc(2026, 10, 26, 9, 0)


def test_next_opening_special_hours() -> None:
    short = schedule(
        weekly=weekdays(),
        exceptions=(
            DatedHours(date(2026, 12, 24), closed=False, start=hhmm("10:00"), end=hhmm("13:00")),
        ),
    )
    assert next_opening(short, utc(2026, 12, 24, 9, 0)) == utc(2026, 12, 24, 10, 0)
    assert next_opening(short, utc(2026, 12, 24, 13, 0)) == utc(2026, 12, 25, 9, 0)


def test_next_opening_gives_up_after_fourteen_days() -> None:
    start = date(2026, 6, 1)
    shut = tuple(DatedHours(start + timedelta(days=n), closed=True) for n in range(16))
    assert next_opening(schedule(weekly=weekdays(), exceptions=shut), utc(2026, 6, 1, 8, 0)) is None
    # Open again 15 days later: beyond the window.
    fifteen = tuple(DatedHours(start + timedelta(days=n), closed=True) for n in range(15))
    assert next_opening(schedule(exceptions=fifteen), utc(2026, 6, 1, 8, 0)) is None
    # Open again on the 14th day: inside the window.
    fourteen = tuple(DatedHours(start + timedelta(days=n), closed=True) for n in range(14))
    assert next_opening(schedule(exceptions=fourteen), utc(2026, 6, 1, 8, 0)) == utc(
        2026, 6, 15, 0, 0
    )


# -- the database side --------------------------------------------------------------------


def _desk_and_sales(sales: Department) -> None:
    services.set_business_hours(
        department=None,
        timezone="Africa/Johannesburg",
        weekly=list(weekdays("08:00", "17:00")),
        exceptions=[DatedHours(date(2026, 6, 16), closed=True)],  # Youth Day, a Tuesday
        by=None,
    )
    services.set_business_hours(
        department=sales,
        timezone="UTC",
        weekly=[Interval(SAT, hhmm("10:00"), hhmm("14:00"))],
        exceptions=[],
        by=None,
    )


def test_no_schedule_means_always_open(sales: Department) -> None:
    assert schedule_for(None) is None
    assert schedule_for(sales) is None
    assert is_within_business_hours(utc(2026, 6, 6, 3, 0))
    assert is_within_business_hours(utc(2026, 6, 6, 3, 0), department=sales)
    with time_machine.travel(utc(2026, 6, 7, 23, 0), tick=False):
        assert is_within_business_hours()


def test_schedule_for_loads_the_applicable_schedule(sales: Department, support: Department) -> None:
    _desk_and_sales(sales)
    desk = schedule_for(None)
    assert desk == Schedule(
        timezone="Africa/Johannesburg",
        weekly=weekdays("08:00", "17:00"),
        exceptions=(DatedHours(date(2026, 6, 16), closed=True),),
    )
    assert schedule_for(support) == desk
    assert schedule_for(sales) == Schedule(
        timezone="UTC", weekly=(Interval(SAT, hhmm("10:00"), hhmm("14:00")),), exceptions=()
    )


def test_department_override_versus_desk_default(sales: Department, support: Department) -> None:
    _desk_and_sales(sales)
    saturday = utc(2026, 6, 6, 11, 0)
    assert is_within_business_hours(saturday, department=sales)
    assert not is_within_business_hours(saturday, department=support)
    assert not is_within_business_hours(saturday)

    monday = utc(2026, 6, 8, 6, 0)  # 08:00 SAST
    assert not is_within_business_hours(monday, department=sales)
    assert is_within_business_hours(monday, department=support)
    assert is_within_business_hours(monday)
    assert not is_within_business_hours(utc(2026, 6, 16, 8, 0), department=support)  # holiday

    services.clear_business_hours(department=sales, by=None)
    assert is_within_business_hours(monday, department=sales)
    assert not is_within_business_hours(saturday, department=sales)


def test_default_moment_is_now(sales: Department, support: Department) -> None:
    _desk_and_sales(sales)
    with time_machine.travel(utc(2026, 6, 6, 11, 0), tick=False):  # Saturday
        assert is_within_business_hours(department=sales)
        assert not is_within_business_hours(department=support)
        assert not is_within_business_hours()
    with time_machine.travel(datetime(2026, 6, 8, 16, 59, tzinfo=JOBURG), tick=False):
        assert not is_within_business_hours(department=sales)
        assert is_within_business_hours(department=support)
    with time_machine.travel(datetime(2026, 6, 8, 17, 0, tzinfo=JOBURG), tick=False):
        assert not is_within_business_hours(department=support)


def test_empty_desk_schedule_is_always_open(support: Department) -> None:
    services.set_business_hours(
        department=None, timezone="Europe/London", weekly=[], exceptions=[], by=None
    )
    with time_machine.travel(utc(2026, 3, 29, 1, 0), tick=False):
        assert is_within_business_hours(department=support)
