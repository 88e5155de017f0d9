"""The set-up pages: every model of the desk on ``setup_site``.

Desk set-up (users, departments, business hours, channels, templates, contacts) is
editable here. What happens in chats (chats, messages, comments, events, notifications,
live connections) is history: it is shown read-only, because only the services may change
it. Channel secrets are write-only and API tokens show no hash.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from chatdesk.accounts.models import ApiToken, Connection, User
from chatdesk.accounts.services import apply_role_flags, user_changed
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    Comment,
    Contact,
    ContactOptOut,
    Message,
    Notification,
)
from chatdesk.core import clock
from chatdesk.core.errors import DeskError
from chatdesk.providers.models import Channel, Template
from chatdesk.providers.queries import webhook_url
from chatdesk.providers.template_sync import sync_templates
from chatdesk.routing.models import BusinessHours, DatedException, Department, WeeklyInterval
from chatdesk.web.admin_site import setup_site
from chatdesk.web.forms import (
    CHANNEL_SECRETS,
    ChannelAdminForm,
    DeskUserChangeForm,
    DeskUserCreationForm,
)

DAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def _short(text: str, length: int = 80) -> str:
    return Truncator(text.replace("\n", " ")).chars(length)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History, not set-up: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Users and departments


@admin.register(User, site=setup_site)
class DeskUserAdmin(UserAdmin):
    form = DeskUserChangeForm
    add_form = DeskUserCreationForm
    list_display = (
        "username",
        "display_name",
        "role",
        "presence",
        "capacity",
        "department_list",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "presence", "is_active", "departments")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    ordering = ("username",)
    filter_horizontal = ("departments",)
    readonly_fields = (
        "last_login",
        "date_joined",
        "presence_changed_at",
        "last_seen_at",
        "last_assigned_at",
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Desk", {"fields": ("role", "display_name", "departments", "capacity", "presence")}),
        ("Personal details", {"fields": ("first_name", "last_name", "email")}),
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "last_login",
                    "date_joined",
                    "presence_changed_at",
                    "last_seen_at",
                    "last_assigned_at",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        ("Desk", {"fields": ("role", "display_name", "departments", "capacity")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("departments")

    @admin.display(description="Departments")
    def department_list(self, obj: User) -> str:
        return ", ".join(d.name for d in obj.departments.all()) or "—"

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        # An admin demoted here must lose the set-up pages too.
        apply_role_flags(obj)
        if "presence" in form.changed_data:
            obj.presence_changed_at = clock.now()
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # With the departments saved: open sockets follow the change, in order.
        user_changed(form.instance)


@admin.register(Department, site=setup_site)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "member_count", "created_at")
    search_fields = ("name", "description")
    list_filter = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_count)


# Business hours


class WeeklyIntervalForm(forms.ModelForm):
    day = forms.TypedChoiceField(choices=DAYS, coerce=int)

    class Meta:
        model = WeeklyInterval
        fields = ("day", "start", "end")


class WeeklyIntervalInline(admin.TabularInline):
    model = WeeklyInterval
    form = WeeklyIntervalForm
    extra = 0
    verbose_name = "weekly opening interval"
    verbose_name_plural = "Weekly opening hours (an end before the start runs past midnight)"


class DatedExceptionInline(admin.TabularInline):
    model = DatedException
    extra = 0
    fields = ("date", "closed", "start", "end")
    verbose_name = "dated exception"
    verbose_name_plural = "Dated exceptions (holidays: tick closed; special hours: start and end)"


@admin.register(BusinessHours, site=setup_site)
class BusinessHoursAdmin(admin.ModelAdmin):
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
        return week_grid(list(obj.weekly.all()))

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessHours]:
        return super().get_queryset(request).annotate(interval_count=Count("weekly"))

    @admin.display(description="Weekly intervals", ordering="interval_count")
    def interval_count(self, obj: Any) -> int:
        return int(obj.interval_count)


# Channels and templates


def week_grid(intervals: list[WeeklyInterval]) -> str:
    """An HTML table: a row per day, a cell per hour, shaded when open for any of it. An
    interval whose end comes before its start runs past midnight into the next day."""
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
    return format_html(
        "<table class='week-grid' aria-label='Opening hours by day and hour'>"
        "<thead><tr><td></td>{}</tr></thead><tbody>{}</tbody></table>",
        header,
        rows,
    )


_request_base: ContextVar[str] = ContextVar("request_base", default="")


@admin.register(Channel, site=setup_site)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ("name", "kind", "department", "is_active", "secrets_state", "created_at")
    list_filter = ("kind", "is_active", "department")
    search_fields = ("name",)
    list_select_related = ("department",)
    readonly_fields = ("webhook_to_paste",)
    fieldsets = (
        (None, {"fields": ("kind", "name", "department", "is_active")}),
        (
            "Webhook",
            {
                "fields": ("webhook_to_paste",),
                "description": (
                    "Paste this URL into Meta's app dashboard (WhatsApp → Configuration → "
                    "Callback URL, with the verify token below) or into Twilio's number "
                    "settings (A message comes in → Webhook, HTTP POST)."
                ),
            },
        ),
        ("Automatic replies", {"fields": ("out_of_hours_reply", "queue_reply", "end_keyword")}),
        ("Provider settings", {"fields": ("config", "send_rate")}),
        (
            "Secrets",
            {
                "fields": tuple(CHANNEL_SECRETS),
                "description": (
                    "Secrets are write-only: they are never shown again. Leave a field blank "
                    "to keep the stored value; type a new one to replace it."
                ),
            },
        ),
    )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        # The address this admin reached us on, for the webhook URL when
        # CHATDESK_PUBLIC_URL is not set (per request: the admin object is shared).
        token = _request_base.set(request.build_absolute_uri("/"))
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()  # while the address is known
            return response
        finally:
            _request_base.reset(token)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "send_rate" and field is not None:
            # A form sent without the field (a script, an older page) keeps the stored rate,
            # or the desk's default for a new channel; a blank one is refused by the model.
            field.required = False
        return field

    @admin.display(description="Webhook URL")
    def webhook_to_paste(self, obj: Channel | None) -> str:
        if obj is None or obj.pk is None:
            return "Shown once the channel is saved."
        url = webhook_url(obj, request_base=_request_base.get())
        return url or "None needed: the sandbox channel is driven from the simulator."

    @admin.display(description="Secrets")
    def secrets_state(self, obj: Channel) -> str:
        """Which secrets the kind needs are missing: names only, never values."""
        stored = obj.secrets if isinstance(obj.secrets, dict) else {}
        needed = [name for name, (kind, _) in CHANNEL_SECRETS.items() if kind == obj.kind]
        missing = [CHANNEL_SECRETS[name][1].lower() for name in needed if not stored.get(name)]
        if not needed:
            return "none needed"
        return "missing " + ", ".join(missing) if missing else "all set"

    actions = ["sync_templates_from_meta"]

    @admin.action(description="Sync WhatsApp templates from Meta")
    def sync_templates_from_meta(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            try:
                result = sync_templates(channel=channel, by=request.user)  # type: ignore[arg-type]
            except DeskError as exc:
                self.message_user(request, f"{channel.name}: {exc.detail}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{channel.name}: {result.created} new, {result.updated} updated, "
                f"{result.unchanged} unchanged templates.",
                messages.SUCCESS,
            )

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # A filter on the secrets would answer "is the token X?" one guess at a time.
        if lookup.split("__", 1)[0] == "secrets":
            return False
        return super().lookup_allowed(lookup, value, request)


@admin.register(Template, site=setup_site)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "category", "status", "channel", "variables", "updated_at")
    list_filter = ("status", "category", "language", "channel")
    search_fields = ("name", "body", "provider_template_id")
    list_select_related = ("channel",)

    @admin.display(description="Variables")
    def variables(self, obj: Template) -> int:
        return obj.variable_count


# Contacts and chats


@admin.register(Contact, site=setup_site)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("phone", "name", "created_at", "updated_at")
    search_fields = ("phone", "name")
    list_filter = ("created_at",)


@admin.register(ContactOptOut, site=setup_site)
class ContactOptOutAdmin(ReadOnlyAdmin):
    list_display = ("contact", "channel", "keyword", "created_at")
    list_filter = ("channel",)
    search_fields = ("contact__phone", "contact__name", "keyword")
    list_select_related = ("contact", "channel")


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "direction", "author", "text", "status")
    readonly_fields = fields


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = ("created_at", "author", "body")
    readonly_fields = fields


class ChatEventInline(ReadOnlyInline):
    model = ChatEvent
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields
    show_change_link = False


@admin.register(Chat, site=setup_site)
class ChatAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "ticket_state",
        "contact",
        "channel",
        "agent",
        "department",
        "created_at",
        "closed_at",
    )
    list_display_links = ("id", "contact")
    list_filter = ("kind", "status", "ticket_state", "channel", "department", "agent")
    search_fields = ("contact__phone", "contact__name", "agent__username")
    list_select_related = ("contact", "channel", "agent", "department")
    inlines = (MessageInline, CommentInline, ChatEventInline)


@admin.register(Message, site=setup_site)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "chat", "direction", "content_type", "status", "summary", "created_at")
    list_filter = ("direction", "status", "content_type", "channel")
    search_fields = ("text", "provider_message_id", "chat__contact__phone")
    list_select_related = ("chat__contact",)

    @admin.display(description="Text")
    def summary(self, obj: Message) -> str:
        return _short(obj.text)


@admin.register(Comment, site=setup_site)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("id", "chat", "author", "summary", "created_at")
    list_filter = ("author",)
    search_fields = ("body", "author__username")
    list_select_related = ("chat__contact", "author")

    @admin.display(description="Comment")
    def summary(self, obj: Comment) -> str:
        return _short(obj.body)


@admin.register(ChatEvent, site=setup_site)
class ChatEventAdmin(ReadOnlyAdmin):
    list_display = ("chat", "kind", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("chat__contact__phone", "actor__username")
    list_select_related = ("chat__contact", "actor")


@admin.register(Notification, site=setup_site)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "kind", "chat", "read_at", "created_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__username",)
    list_select_related = ("recipient", "chat__contact")


# Accounts: live connections and API tokens


@admin.register(Connection, site=setup_site)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ("user", "instance", "opened_at", "last_seen_at")
    list_filter = ("instance",)
    search_fields = ("user__username", "channel_name")
    list_select_related = ("user",)


@admin.register(ApiToken, site=setup_site)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by ``chatdesk token``; here they are named and revoked."""

    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup.split("__", 1)[0] == "key_hash":
            return False
        return super().lookup_allowed(lookup, value, request)
