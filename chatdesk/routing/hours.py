"""Business hours: is the desk open at a given moment, and when does it next open?

The core (:class:`Schedule`, :func:`is_open`, :func:`next_opening`) works on plain values
and never touches the database; :func:`schedule_for` and :func:`is_within_business_hours`
load the schedule that applies to a department.

Rules
-----
* Times are local **wall-clock** times in the schedule's time zone: an instant is first
  converted to that zone, then its date and clock time are compared with the schedule.
  So a 09:00-17:00 interval opens at 09:00 local on a DST change day as on any other.
* An interval is open from ``start`` (inclusive) to ``end`` (exclusive). An ``end``
  earlier than ``start`` runs past midnight: from ``start`` on its day to ``end`` on the
  next day (Sunday's runs into Monday). ``end`` 00:00 means "until midnight".
* An empty ``weekly`` means always open, except on dates that have an exception: a closed
  date is closed, a date with special hours is open only in those hours.
* A dated exception replaces that date's weekly intervals: ``closed`` shuts the whole
  date; ``start``/``end`` opens only then (its ``end`` may also be earlier than its
  ``start``, running past midnight into the next date). Several hour exceptions on one
  date are all open; a ``closed`` one on the date wins over them.
* The overnight tail of the previous date's interval (weekly, or that date's exception's)
  still applies on the next date, even if the next date has special hours, **unless the
  next date is closed by an exception**: a closed date is closed from midnight to
  midnight, so the tail is cut at midnight.
* Because wall-clock times are used, local times skipped by a spring-forward change are
  simply never reached (an interval starting inside the gap opens at the change), and
  local times repeated by a fall-back change are evaluated each time they occur (a
  01:00-01:45 interval on a fall-back night is open twice). A moment given as a
  nonexistent or ambiguous local time is read as PEP 495 says (its ``fold``), never
  refused; a naive moment is refused with ValueError. :func:`next_opening` checks both
  folds of every candidate local time and every UTC offset change, so it finds openings
  inside gaps (at the change) and in repeated hours (both occurrences).
* A schedule whose time zone this server cannot load (stored before names were checked,
  or straight into the database) raises :class:`UnknownTimeZone` in the core; the
  database side treats it as **always open**, as if there were no schedule, and logs it
  once per process: new chats keep being routed to whoever is online (or become tickets
  with the nobody-available reply), rather than refused, or told "closed" at the wrong
  hours. The set-up pages and ``/readyz`` name it (``routing.queries.business_hours_faults``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Q

from chatdesk.core import clock
from chatdesk.routing.models import BusinessHours, Department
from chatdesk.routing.queries import business_hours_for
from chatdesk.routing.services import DatedHours, Interval
from chatdesk.routing.zones import UnknownTimeZone, zone

__all__ = [
    "DatedHours",
    "Interval",
    "Schedule",
    "UnknownTimeZone",
    "is_open",
    "is_within_business_hours",
    "next_opening",
    "schedule_for",
]

SEARCH_DAYS = 14
_MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule (Monday = 0) in an IANA time zone, with dated exceptions."""

    timezone: str
    weekly: tuple[Interval, ...] = ()
    exceptions: tuple[DatedHours, ...] = ()
    # Which stored schedule this is, for the log ("" for one built in code).
    scope: str = field(default="", compare=False)


Span = tuple[time, time]


@dataclass
class _Plan:
    """The schedule indexed for look-ups."""

    zone: ZoneInfo
    always_open: bool
    weekly: dict[int, list[Span]] = field(default_factory=dict)
    closed: set[date] = field(default_factory=set)
    special: dict[date, list[Span]] = field(default_factory=dict)

    def spans(self, day: date) -> list[Span]:
        """The intervals that start on ``day`` (tails past midnight included in each)."""
        if day in self.closed:
            return []
        if day in self.special:
            return self.special[day]
        return self.weekly.get(day.weekday(), [])

    def open_at(self, local: datetime) -> bool:
        """Whether the naive local wall-clock moment ``local`` is open."""
        day, now = local.date(), local.time()
        if day in self.closed:
            return False
        if self.always_open and day not in self.special:
            return True
        for start, end in self.spans(day):
            if start < end or end == _MIDNIGHT:
                if start <= now and (end == _MIDNIGHT or now < end):
                    return True
            elif now >= start:
                return True
        # The overnight tails of the previous date's intervals.
        previous = self.spans(day - timedelta(days=1))
        return any(end < start and now < end for start, end in previous)


def _plan(schedule: Schedule) -> _Plan:
    weekly: dict[int, list[Span]] = defaultdict(list)
    for interval in schedule.weekly:
        weekly[interval.day].append((interval.start, interval.end))
    closed: set[date] = set()
    special: dict[date, list[Span]] = defaultdict(list)
    for exception in schedule.exceptions:
        if exception.closed:
            closed.add(exception.date)
        elif exception.start is not None and exception.end is not None:
            special[exception.date].append((exception.start, exception.end))
    return _Plan(
        zone=zone(schedule.timezone),
        always_open=not schedule.weekly,
        weekly=dict(weekly),
        closed=closed,
        special=dict(special),
    )


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("A moment to check against business hours must be timezone-aware.")
    # Through UTC: astimezone() into the moment's own zone would return it unchanged, and
    # keep a nonexistent local time (one in a spring-forward gap) as it is.
    return at.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether ``schedule`` is open at the timezone-aware instant ``at``."""
    plan = _plan(schedule)
    return plan.open_at(_local(at, plan.zone))


def _instants(wall: datetime, zone: ZoneInfo) -> Iterable[datetime]:
    """Both PEP 495 readings of a local wall-clock time, as UTC instants. For an ordinary
    time they agree; for a repeated one they are its two occurrences; for a skipped one
    they fall either side of the gap (the change itself is a candidate elsewhere)."""
    for fold in (0, 1):
        yield wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def _offset_changes(zone: ZoneInfo, since: datetime, until: datetime) -> Iterable[datetime]:
    """The UTC instants in [since, until] at which the zone's UTC offset changes (time
    zone changes fall on whole seconds, so they are found to the second)."""

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(zone).utcoffset()

    step = 6 * 3600
    left = since.replace(microsecond=0)
    while left < until:
        right = left + timedelta(seconds=step)
        before = offset(left)
        if before != offset(right):
            lo, hi = 0, step  # offset(left + lo) == before != offset(left + hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(left + timedelta(seconds=mid)) == before:
                    lo = mid
                else:
                    hi = mid
            yield left + timedelta(seconds=hi)
        left = right


def next_opening(schedule: Schedule, at: datetime) -> datetime | None:
    """The first instant at or after ``at`` at which ``schedule`` is open, within
    :data:`SEARCH_DAYS` days: ``at`` itself when it is open already, None when the
    schedule does not open in that window. The result is in ``at``'s time zone."""
    plan = _plan(schedule)
    if plan.open_at(_local(at, plan.zone)):
        return at
    since = at.astimezone(UTC)
    until = since + timedelta(days=SEARCH_DAYS)
    # Being open is constant between these instants and takes its new value at each:
    # local midnights and interval starts (both folds), and UTC offset changes.
    first = since.astimezone(plan.zone).date() - timedelta(days=1)
    last = until.astimezone(plan.zone).date() + timedelta(days=1)
    candidates: set[datetime] = set(_offset_changes(plan.zone, since, until))
    day = first
    while day <= last:
        for clock_time in {_MIDNIGHT, *(start for start, _ in plan.spans(day))}:
            candidates.update(_instants(datetime.combine(day, clock_time), plan.zone))
        day += timedelta(days=1)
    for candidate in sorted(c for c in candidates if since < c <= until):
        if plan.open_at(_local(candidate, plan.zone)):
            return candidate.astimezone(at.tzinfo)
    return None


# -- the database side -------------------------------------------------------------------


log = logging.getLogger(__name__)

# The schedules already logged as unusable by this process: logged once, not per message.
_reported: set[tuple[str, str]] = set()


def _schedule_of(hours: BusinessHours) -> Schedule:
    scope = (
        "the desk's business hours"
        if hours.department_id is None
        else f"the business hours of department {hours.department_id}"
    )
    return Schedule(
        scope=scope,
        timezone=hours.timezone,
        weekly=tuple(Interval(day=w.day, start=w.start, end=w.end) for w in hours.weekly.all()),
        exceptions=tuple(
            DatedHours(date=e.date, closed=e.closed, start=e.start, end=e.end)
            for e in hours.exceptions.all()
        ),
    )


def schedule_for(department: Department | int | None) -> Schedule | None:
    """The schedule that applies to ``department`` (its own, else the desk's), or None when
    there is none, which means always open. ``department`` may be given by its id."""
    if department is None or isinstance(department, Department):
        hours = business_hours_for(department)
    else:
        hours = _hours_for_department_id(department)
    return _schedule_of(hours) if hours is not None else None


def _hours_for_department_id(department_id: int) -> BusinessHours | None:
    """The department's own schedule, else the desk's, read in one statement (the
    department's row first) with its intervals and exceptions."""
    return (
        BusinessHours.objects.filter(Q(department_id=department_id) | Q(department__isnull=True))
        .order_by(F("department_id").asc(nulls_last=True))
        .prefetch_related("weekly", "exceptions")
        .first()
    )


def is_within_business_hours(
    at: datetime | None = None, *, department: Department | int | None = None
) -> bool:
    """Whether the desk, or ``department`` (its own schedule, else the desk's; a
    department or its id), is open at ``at`` (default: now). No schedule at all means
    always open."""
    schedule = schedule_for(department)
    if schedule is None:
        return True
    try:
        return is_open(schedule, at if at is not None else clock.now())
    except UnknownTimeZone:
        _report_unknown_zone(schedule)
        return True


def _report_unknown_zone(schedule: Schedule) -> None:
    key = (schedule.scope, schedule.timezone)
    if key in _reported:
        return
    _reported.add(key)
    log.error(
        "%s have the time zone %r, which this server does not know: they are ignored and "
        "new chats are routed as if the desk were always open, until they are saved with "
        "a valid time zone on the set-up pages",
        (schedule.scope or "business hours").capitalize(),
        schedule.timezone,
    )
