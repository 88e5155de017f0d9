"""The one clock the desk reads, so tests can freeze it (time-machine patches it too)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
