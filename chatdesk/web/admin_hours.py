"""The set-up pages for business hours: a schedule with its weekly intervals and dated
exceptions, written whole by ``routing.services.set_business_hours`` as the API does."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from chatdesk.routing import services as routing_services
from chatdesk.routing.models import BusinessHours, DatedException, WeeklyInterval
from chatdesk.web.admin_writes import WritesThroughServices, acting_user

DAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class _ServiceChecksRows(forms.ModelForm):
    """The schedule's rules are the service's: the model's constraints are not checked
    here first, so a refusal reads as the API's."""

    def _get_validation_exclusions(self) -> set[str]:
        # Django skips the model's constraints on the fields left out here; the form
        # fields have already checked each value's type.
        kept = super()._get_validation_exclusions()  # type: ignore[misc]
        return {*kept, "day", "start", "end", "closed"}


class WeeklyIntervalForm(_ServiceChecksRows):
    day = forms.TypedChoiceField(choices=DAYS, coerce=int)

    class Meta:
        model = WeeklyInterval
        fields = ("day", "start", "end")


class DatedExceptionForm(_ServiceChecksRows):
    class Meta:
        model = DatedException
        fields = ("date", "closed", "start", "end")


@cache
def zone_choices() -> list[tuple[str, Any]]:
    """Every zone this server knows, grouped by region ("Africa", "America", …) with
    the city as the label; UTC first. The select's type-ahead finds one by its city."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(available_timezones()):
        region, _, city = name.partition("/")
        if not city or region in {"Etc", "SystemV", "US", "Canada", "Brazil", "Mexico", "Chile"}:
            region, city = "Other", name
        groups.setdefault(region, []).append((name, city.replace("_", " ")))
    return [("UTC", "UTC"), *((region, zones) for region, zones in sorted(groups.items()))]


class TimeZoneSelect(forms.Select):
    """A select of the server's zones; a stored name it does not know (written before
    names were checked) stays selected, marked, so saving it again is refused with the
    service's sentence rather than silently changed to the first zone."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, choices=zone_choices())

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> Any:
        known = value in available_timezones() or value in ("UTC", None, "")
        if not known:
            self.choices = [(value, f"{value} (not a time zone this server knows)"), *self.choices]
        return super().get_context(name, value, attrs)


class BusinessHoursForm(forms.ModelForm):
    # Not a ChoiceField: the service checks the name, with the API's sentence.
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        widget=TimeZoneSelect(),
        help_text="The wall clock the hours below are in (daylight saving included).",
    )

    class Meta:
        model = BusinessHours
        fields = ("department", "timezone")


class WeeklyIntervalInline(admin.TabularInline):
    model = WeeklyInterval
    form = WeeklyIntervalForm
    extra = 0
    verbose_name = "weekly opening interval"
    verbose_name_plural = "Weekly opening hours (an end before the start runs past midnight)"


class DatedExceptionInline(admin.TabularInline):
    model = DatedException
    form = DatedExceptionForm
    extra = 0
    fields = ("date", "closed", "start", "end")
    verbose_name = "dated exception"
    verbose_name_plural = "Dated exceptions (holidays: tick closed; special hours: start and end)"


def _kept(formset: Any) -> list[dict[str, Any]]:
    """The rows a formset keeps: filled in, and not ticked for deletion."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class BusinessHoursAdmin(WritesThroughServices):
    form = BusinessHoursForm
    list_display = ("__str__", "department", "timezone", "interval_count", "updated_at")
    list_filter = ("timezone", "department")
    search_fields = ("department__name", "timezone")
    list_select_related = ("department",)
    inlines = (WeeklyIntervalInline, DatedExceptionInline)
    readonly_fields = ("week_at_a_glance",)

    @admin.display(description="The week at a glance")
    def week_at_a_glance(self, obj: BusinessHours | None) -> str:
        """A grid of the seven days by the hour, open hours shaded (saved intervals)."""
        if obj is None or obj.pk is None:
            return "Shown once the hours are saved."
        return week_grid(list(obj.weekly.all()), zone=obj.timezone)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessHours]:
        return super().get_queryset(request).annotate(interval_count=Count("weekly"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A schedule belongs to its scope; another department gets a schedule of its own.
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "department") if obj is not None and obj.pk else fields

    @admin.display(description="Weekly intervals", ordering="interval_count")
    def interval_count(self, obj: Any) -> int:
        return int(obj.interval_count)

    def save_model(
        self, request: HttpRequest, obj: BusinessHours, form: ModelForm, change: bool
    ) -> None:
        """Written with the inlines in ``save_related``: the service takes the whole week."""

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        obj = form.instance
        rows: dict[type[Any], list[dict[str, Any]]] = {}
        for formset in formsets:
            rows[formset.model] = _kept(formset)
            # Read by the change message; the service, not the formsets, wrote the rows.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        hours = routing_services.set_business_hours(
            department=obj.department,
            timezone=form.cleaned_data["timezone"],
            weekly=[
                routing_services.Interval(day=int(row["day"]), start=row["start"], end=row["end"])
                for row in rows.get(WeeklyInterval, [])
            ],
            exceptions=[
                routing_services.DatedHours(
                    date=row["date"],
                    closed=bool(row["closed"]),
                    start=row.get("start"),
                    end=row.get("end"),
                )
                for row in rows.get(DatedException, [])
            ],
            by=acting_user(request),
        )
        obj.pk = hours.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: BusinessHours) -> None:
        # A department's goes, and the desk's applies to it again; the desk's own goes,
        # and the desk is open always.
        routing_services.clear_business_hours(department=obj.department, by=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BusinessHours]) -> None:
        for hours in queryset.select_related("department"):
            self.delete_model(request, hours)


def week_grid(intervals: list[WeeklyInterval], *, zone: str = "") -> str:
    """An HTML table: a row per day, a cell per hour, shaded when open for any of it. An
    interval whose end comes before its start runs past midnight into the next day. The
    hours are wall-clock times in the schedule's ``zone``, which the caption names."""
    open_hours: set[tuple[int, int]] = set()
    for interval in intervals:
        start = interval.start.hour * 60 + interval.start.minute
        end = interval.end.hour * 60 + interval.end.minute
        if end <= start:
            end += 24 * 60
        for minute in range(start, end, 1):
            day = (interval.day + minute // (24 * 60)) % 7
            open_hours.add((day, (minute // 60) % 24))
    header = format_html_join("", "<th scope='col'>{}</th>", ((f"{h:02d}",) for h in range(24)))
    rows = format_html_join(
        "",
        "<tr><th scope='row'>{}</th>{}</tr>",
        (
            (
                name,
                format_html_join(
                    "",
                    "<td class='{}' title='{} {}:00'></td>",
                    (
                        ("open" if (day, hour) in open_hours else "closed", name, f"{hour:02d}")
                        for hour in range(24)
                    ),
                ),
            )
            for day, name in DAYS
        ),
    )
    caption = format_html("<caption>Hours in {} time</caption>", zone) if zone else mark_safe("")
    return format_html(
        "<table class='week-grid' aria-label='Opening hours by day and hour'>"
        "{}<thead><tr><td></td>{}</tr></thead><tbody>{}</tbody></table>",
        caption,
        header,
        rows,
    )
