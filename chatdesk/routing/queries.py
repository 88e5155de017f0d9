"""Reads about departments and business hours."""

from __future__ import annotations

from django.db.models import QuerySet

from chatdesk.routing.models import BusinessHours, Department


def departments() -> QuerySet[Department]:
    return Department.objects.order_by("name")


def business_hours_for(department: Department | None) -> BusinessHours | None:
    """The schedule that applies: the department's own, else the desk's, else none
    (no schedule means always open)."""
    qs = BusinessHours.objects.prefetch_related("weekly", "exceptions")
    if department is not None:
        own = qs.filter(department=department).first()
        if own is not None:
            return own
    return qs.filter(department__isnull=True).first()


def own_business_hours(department: Department | None) -> BusinessHours | None:
    """The schedule stored for exactly this scope (the desk's when ``department`` is None),
    without falling back."""
    return (
        BusinessHours.objects.prefetch_related("weekly", "exceptions")
        .filter(department=department)
        .first()
    )
