"""/business-hours: the desk's weekly schedule, or a department's own override."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator, WithJsonSchema

from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import errors
from chatdesk.core.errors import BadInput
from chatdesk.routing import access, queries, services
from chatdesk.routing.models import BusinessHours, Department

router = Router(tags=["business hours"])

HHMM_PATTERN = r"([01][0-9]|2[0-3]):[0-5][0-9]"


def _check_hhmm(value: str) -> str:
    if not re.fullmatch(HHMM_PATTERN, value):
        raise ValueError(f"use a time as HH:MM, from 00:00 to 23:59; got {value!r}")
    return value


HHMM = Annotated[
    str,
    AfterValidator(_check_hhmm),
    WithJsonSchema({"type": "string", "pattern": f"^{HHMM_PATTERN}$", "examples": ["09:00"]}),
]


class WeeklyIn(Schema):
    day: int = Field(ge=0, le=6, description="0 is Monday, 6 is Sunday.")
    start: HHMM
    end: HHMM = Field(description="Earlier than start: runs past midnight.")


class ExceptionIn(Schema):
    date: dt.date
    closed: bool = False
    start: HHMM | None = None
    end: HHMM | None = None


class BusinessHoursIn(Schema):
    timezone: str = Field(description="An IANA name, such as Europe/London.")
    weekly: list[WeeklyIn] = Field(default_factory=list, description="Empty: always open.")
    exceptions: list[ExceptionIn] = Field(default_factory=list)


class WeeklyOut(Schema):
    day: int
    start: str
    end: str


class ClosedDayOut(Schema):
    date: dt.date
    closed: Literal[True]


class SpecialHoursOut(Schema):
    date: dt.date
    start: str
    end: str


class BusinessHoursOut(Schema):
    timezone: str
    weekly: list[WeeklyOut]
    exceptions: list[ClosedDayOut | SpecialHoursOut]


def _hhmm(value: dt.time | None) -> str:
    return f"{value:%H:%M}" if value is not None else ""


def _out(hours: BusinessHours | None) -> dict[str, Any]:
    if hours is None:
        return {"timezone": "UTC", "weekly": [], "exceptions": []}
    return {
        "timezone": hours.timezone,
        "weekly": [
            {"day": i.day, "start": _hhmm(i.start), "end": _hhmm(i.end)} for i in hours.weekly.all()
        ],
        "exceptions": [
            {"date": e.date, "closed": True}
            if e.closed
            else {"date": e.date, "start": _hhmm(e.start), "end": _hhmm(e.end)}
            for e in hours.exceptions.all()
        ],
    }


def _time(value: str | None) -> dt.time | None:
    return dt.time.fromisoformat(value) if value is not None else None


def _department(request: HttpRequest, department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    return access.department_for(acting_user(request), department_id)


@router.get("", response={200: BusinessHoursOut, **errors(400, 401, 404)})
def get_business_hours(request: HttpRequest, department_id: int | None = None) -> dict[str, Any]:
    """The schedule that applies: with ``department_id``, that department's own when it
    has one, else the desk's; with nothing stored, always open."""
    return _out(queries.business_hours_for(_department(request, department_id)))


@router.put("", response={200: BusinessHoursOut, **errors(400, 401, 403, 404)})
def set_business_hours(
    request: HttpRequest, payload: BusinessHoursIn, department_id: int | None = None
) -> dict[str, Any]:
    """Replace the schedule whole: the desk's, or with ``department_id`` that
    department's override."""
    department = _department(request, department_id)
    services.set_business_hours(
        department=department,
        timezone=payload.timezone,
        weekly=[
            services.Interval(
                day=i.day, start=dt.time.fromisoformat(i.start), end=dt.time.fromisoformat(i.end)
            )
            for i in payload.weekly
        ],
        exceptions=[
            services.DatedHours(
                date=e.date, closed=e.closed, start=_time(e.start), end=_time(e.end)
            )
            for e in payload.exceptions
        ],
        by=acting_user(request),
    )
    return _out(queries.own_business_hours(department))


@router.delete("", response={204: None, **errors(400, 401, 403, 404)})
def clear_business_hours(request: HttpRequest, department_id: int | None = None) -> Status[None]:
    """Drop a department's override, so the desk's schedule applies to it again."""
    if department_id is None:
        raise BadInput(
            "Give the department_id whose own schedule to drop; the desk's schedule stays "
            "(PUT an empty weekly to open always)."
        )
    department = access.department_for(acting_user(request), department_id)
    services.clear_business_hours(department=department, by=acting_user(request))
    return Status(204, None)
