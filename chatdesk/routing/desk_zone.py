"""The desk's time zone: what the pages show times in for a user with no zone of their own.

``CHATDESK_TIME_ZONE`` when set; otherwise the desk-wide business hours' zone (the desk's
clock is the one its opening hours are written in); UTC when neither names a zone this
server knows. Pages read it on every request, so the business hours' zone is kept per
process for a short while (a change there reaches this process at once, the others
within ``REFRESH_SECONDS``)."""

from __future__ import annotations

import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from chatdesk.routing.models import BusinessHours
from chatdesk.routing.zones import zone_or_none

UTC = ZoneInfo("UTC")
REFRESH_SECONDS = 30.0

_lock = threading.Lock()
_kept: tuple[ZoneInfo, float] | None = None  # the business hours' zone, and until when


def desk_time_zone() -> ZoneInfo:
    """The desk's zone (one query at most every ``REFRESH_SECONDS`` per process)."""
    configured: str = getattr(settings, "CHATDESK_TIME_ZONE", "")
    if configured:
        return zone_or_none(configured) or UTC
    global _kept
    kept = _kept
    if kept is not None and kept[1] > time.monotonic():
        return kept[0]
    name = (
        BusinessHours.objects.filter(department__isnull=True)
        .values_list("timezone", flat=True)
        .first()
    )
    found = (zone_or_none(name) if name else None) or UTC
    with _lock:
        _kept = (found, time.monotonic() + REFRESH_SECONDS)
    return found


def keep_desk_time_zone(zone: ZoneInfo | None) -> None:
    """Forget what this process holds (None), or hold ``zone`` as the business hours' zone
    without reading it (tests start from a desk with no hours)."""
    global _kept
    with _lock:
        _kept = None if zone is None else (zone, time.monotonic() + REFRESH_SECONDS)


def _hours_changed(sender: Any, **_: object) -> None:
    keep_desk_time_zone(None)
    # Again once committed: a read between the save and the commit saw the old zone.
    transaction.on_commit(lambda: keep_desk_time_zone(None))


post_save.connect(_hours_changed, sender=BusinessHours, dispatch_uid="chatdesk.desk_zone.save")
post_delete.connect(_hours_changed, sender=BusinessHours, dispatch_uid="chatdesk.desk_zone.delete")
