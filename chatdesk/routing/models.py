"""Departments and business hours."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower


class Department(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="department_name_unique_ignoring_case"),
        ]

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """A weekly schedule in a time zone. The row with no department is the desk's own;
    a department's row, when present, overrides it for that department's chats."""

    department = models.OneToOneField(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="business_hours"
    )
    timezone = models.CharField(max_length=64, default="UTC")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "business hours"
        constraints = [
            # One desk-wide row (department NULL); the one-to-one covers departments.
            models.UniqueConstraint(
                Coalesce("department", Value(0)), name="business_hours_one_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"Business hours of {self.department or 'the desk'} ({self.timezone})"


class WeeklyInterval(models.Model):
    """Open from ``start`` to ``end`` on ``day`` (Monday = 0). An ``end`` earlier than
    ``start`` runs past midnight into the next day."""

    business_hours = models.ForeignKey(
        BusinessHours, on_delete=models.CASCADE, related_name="weekly"
    )
    day = models.PositiveSmallIntegerField()
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["day", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(day__gte=0) & Q(day__lte=6), name="weekly_day_0_6"),
            models.CheckConstraint(condition=~Q(start=F("end")), name="weekly_not_empty"),
        ]

    def __str__(self) -> str:
        return f"day {self.day} {self.start:%H:%M}-{self.end:%H:%M}"


class DatedException(models.Model):
    """A holiday (``closed``) or special hours on one date, replacing that day's weekly hours."""

    business_hours = models.ForeignKey(
        BusinessHours, on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField()
    closed = models.BooleanField(default=False)
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(closed=True) & Q(start__isnull=True) & Q(end__isnull=True))
                | (Q(closed=False) & Q(start__isnull=False) & Q(end__isnull=False)),
                name="exception_closed_or_hours",
            ),
        ]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date}: closed"
        return f"{self.date}: {self.start}-{self.end}"
