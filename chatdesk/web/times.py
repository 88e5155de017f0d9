"""Times as the pages show them: in the viewer's zone (their own preference, else the
desk's), the clock alone today, the day too on another day, the year too in another year;
the full date and the zone's name in the title. The middleware makes that zone Django's
current one for the request, so ``|date`` and the set-up pages follow it too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR

from chatdesk.accounts.models import User
from chatdesk.core import clock
from chatdesk.routing.desk_zone import desk_time_zone
from chatdesk.routing.zones import zone_or_none


def zone_for(user: User | None) -> ZoneInfo:
    """The zone ``user``'s pages show times in: their own, else the desk's."""
    own = getattr(user, "time_zone", "") if user is not None else ""
    return (zone_or_none(own) if own else None) or desk_time_zone()


# Paths that show no times to a person: the providers' webhooks (whose statement count
# is pinned), the API (UTC ISO times) and the health checks do not look the zone up.
SHOWS_NO_TIMES = ("/webhooks/", "/api/", "/healthz", "/readyz", "/static/")


def local_time_zone(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Middleware: the viewer's zone is the current one while a page is answered."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path.startswith(SHOWS_NO_TIMES):
            return get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        timezone.activate(zone_for(user if signed_in else None))
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware


def zone_label(zone: ZoneInfo | None = None) -> str:
    """A zone as the pages name it: its IANA name ("Europe/London")."""
    return str(zone or timezone.get_current_timezone())


@dataclass(frozen=True)
class ShownTime:
    """A time ready for ``<time datetime="{iso}" title="{full}">{text}</time>``. ``clock``
    ("14:05") and ``day_time`` ("3 Dec, 14:05") are kept for the rows that show those."""

    iso: str
    full: str
    text: str
    day_time: str
    clock: str

    @property
    def shown(self) -> str:
        return self.text


def shown_time(value: datetime, *, now: datetime | None = None) -> ShownTime:
    """``value`` in the current zone: "14:05" today, "Mon 3 Dec 14:05" on another day this
    year, "3 Dec 2025 14:05" in another year; ``full`` is "Monday 3 December 2026, 14:05
    GMT (Europe/London)". Today and this year are the viewer's, in the same zone."""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(value, zone)
    today = timezone.localtime(now or clock.now(), zone).date()
    hhmm = f"{local.hour:02d}:{local.minute:02d}"
    month = MONTHS_3[local.month].title()
    if local.date() == today:
        text = hhmm
    elif local.year == today.year:
        text = f"{WEEKDAYS_ABBR[local.weekday()]} {local.day} {month} {hhmm}"
    else:
        text = f"{local.day} {month} {local.year} {hhmm}"
    name = str(zone)
    abbreviation = local.tzname() or ""
    named = name if abbreviation in ("", name) else f"{abbreviation} ({name})"
    full = (
        f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month]} {local.year}, "
        f"{hhmm} {named}"
    )
    return ShownTime(
        iso=local.isoformat(),
        full=full,
        text=text,
        day_time=f"{local.day} {month}, {hhmm}",
        clock=hhmm,
    )
