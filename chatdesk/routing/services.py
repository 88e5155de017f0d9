"""Changes to departments and business hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from zoneinfo import available_timezones

from django.db import IntegrityError, transaction

from chatdesk.accounts.models import User
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.routing import access
from chatdesk.routing.models import BusinessHours, DatedException, Department, WeeklyInterval
from chatdesk.routing.zones import zone_or_none


def _check_department_name(name: str, *, besides: Department | None = None) -> str:
    name = name.strip()
    if not name:
        raise BadInput("A department needs a name.")
    if len(name) > 100:
        raise BadInput("A department's name can be at most 100 characters.")
    twins = Department.objects.filter(name__iexact=name)
    if besides is not None:
        twins = twins.exclude(pk=besides.pk)
    if twins.exists():
        raise Conflict(f"A department named {name!r} already exists.")
    return name


def _check_description(description: str) -> str:
    description = description.strip()
    if len(description) > 500:
        raise BadInput("A department's description can be at most 500 characters.")
    return description


def create_department(*, name: str, description: str = "", by: User | None) -> Department:
    if by is not None:
        access.require_admin(by)
    name = _check_department_name(name)
    description = _check_description(description)
    try:
        with transaction.atomic():
            return Department.objects.create(name=name, description=description)
    except IntegrityError as exc:
        raise Conflict(f"A department named {name!r} already exists.") from exc


def update_department(
    *,
    department: Department,
    name: str | None = None,
    description: str | None = None,
    by: User | None,
) -> Department:
    """Rename a department or change its description; None leaves a field as is."""
    if by is not None:
        access.require_admin(by)
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        if name is not None:
            locked.name = _check_department_name(name, besides=locked)
        if description is not None:
            locked.description = _check_description(description)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError as exc:
            raise Conflict(f"A department named {locked.name!r} already exists.") from exc
    return locked


@dataclass(frozen=True)
class Interval:
    day: int
    start: time
    end: time


@dataclass(frozen=True)
class DatedHours:
    date: date
    closed: bool
    start: time | None = None
    end: time | None = None


def check_timezone(name: str) -> str:
    if zone_or_none(name) is None:
        raise BadInput(
            f"{name!r} is not a time zone; use an IANA name such as "
            "'Africa/Johannesburg' or 'Europe/London'."
        )
    if name not in available_timezones() and name != "UTC":
        raise BadInput(f"{name!r} is not a time zone; use an IANA name such as 'Europe/London'.")
    return name


def set_business_hours(
    *,
    department: Department | None,
    timezone: str,
    weekly: list[Interval],
    exceptions: list[DatedHours],
    by: User | None,
) -> BusinessHours:
    """Replace a schedule whole: the desk's (no department) or one department's override."""
    if by is not None:
        access.require_admin(by)
    check_timezone(timezone)
    for interval in weekly:
        if not 0 <= interval.day <= 6:
            raise BadInput("A weekly interval's day must be 0 (Monday) to 6 (Sunday).")
        if interval.start == interval.end:
            raise BadInput(
                f"The interval on day {interval.day} starts and ends at "
                f"{interval.start:%H:%M}; give it a length."
            )
    seen_closed: set[date] = set()
    for exception in exceptions:
        if exception.closed:
            if exception.start is not None or exception.end is not None:
                raise BadInput(f"The exception on {exception.date} is closed; drop its hours.")
            seen_closed.add(exception.date)
        else:
            if exception.start is None or exception.end is None:
                raise BadInput(
                    f"The exception on {exception.date} needs either closed: true "
                    "or both start and end."
                )
            if exception.start == exception.end:
                raise BadInput(f"The exception on {exception.date} starts and ends at once.")
    dates_with_hours = {e.date for e in exceptions if not e.closed}
    both = seen_closed & dates_with_hours
    if both:
        day = min(both)
        raise BadInput(f"{day} is both closed and open in the exceptions; choose one.")
    with transaction.atomic():
        hours, _ = BusinessHours.objects.select_for_update().get_or_create(
            department=department, defaults={"timezone": timezone}
        )
        hours.timezone = timezone
        hours.save()
        hours.weekly.all().delete()
        hours.exceptions.all().delete()
        WeeklyInterval.objects.bulk_create(
            WeeklyInterval(business_hours=hours, day=i.day, start=i.start, end=i.end)
            for i in weekly
        )
        DatedException.objects.bulk_create(
            DatedException(
                business_hours=hours, date=e.date, closed=e.closed, start=e.start, end=e.end
            )
            for e in exceptions
        )
    return hours


def clear_business_hours(*, department: Department | None, by: User | None) -> bool:
    """Drop a department's own schedule so the desk's applies to it again. True when there
    was one. With no department, the desk's own goes, and the desk is open always, as with
    none stored (the API keeps its schedule: an empty one PUT there opens always)."""
    if by is not None:
        access.require_admin(by)
    with transaction.atomic():
        deleted, _ = BusinessHours.objects.filter(department=department).delete()
    return deleted > 0
