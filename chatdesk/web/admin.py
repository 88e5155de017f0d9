"""The set-up pages: every model of the desk on ``setup_site``.

Desk set-up (users, departments, business hours, channels, templates, contacts) is
editable here, written by the same services as the API (see ``admin_writes``); channels
and templates are in ``admin_channels``, business hours in ``admin_hours``. What happens
in chats (chats, messages, comments, events, notifications, live connections) is
history: it is shown read-only, because only the services may change it. Channel
secrets are write-only and API tokens show no hash.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from chatdesk.accounts import queries as account_queries
from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import ApiToken, Connection, User
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    Comment,
    Contact,
    ContactOptOut,
    Message,
    Notification,
)
from chatdesk.flows import people, presence
from chatdesk.providers.models import Channel, ProviderEvent, Template
from chatdesk.routing import services as routing_services
from chatdesk.routing.models import BusinessHours, Department
from chatdesk.web.admin_channels import ChannelAdmin, TemplateAdmin
from chatdesk.web.admin_hours import BusinessHoursAdmin
from chatdesk.web.admin_site import setup_site
from chatdesk.web.admin_writes import WritesThroughServices, acting_user
from chatdesk.web.forms import DepartmentAdminForm, DeskUserChangeForm, DeskUserCreationForm

# What the user form may change, as the service names it (the rest: departments,
# presence and the password, below).
USER_FIELDS = ("username", "role", "display_name", "capacity", "is_active", "time_zone")
PERSONAL_FIELDS = ("first_name", "last_name", "email")


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


class Internal(ReadOnlyAdmin):
    """The desk's own bookkeeping (live connections, a chat's messages, comments, timeline
    and notifications): kept off the set-up home, still open from the chat it belongs to
    and by its address."""

    def has_module_permission(self, request: HttpRequest) -> bool:
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


def change_user(*, user: User, changes: account_services.UserChanges, by: User) -> User:
    """The one place the set-up pages change a user (``update_user``'s signature): the
    last-admin guard, the checks, and waiting chats handed to an agent with more room."""
    return people.update_user(user=user, changes=changes, by=by)


_password_changed_by: ContextVar[User | None] = ContextVar("password_changed_by", default=None)


class DeskPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" page: a new password is set by the service."""

    def save(self, commit: bool = True) -> Any:
        by = _password_changed_by.get()
        if not self.cleaned_data.get("set_usable_password", True) or by is None:
            # Signing in by password turned off: the service has no such change.
            return super().save(commit=commit)
        return change_user(
            user=self.user,
            changes=account_services.UserChanges(password=self.cleaned_data["password1"]),
            by=by,
        )


@admin.register(User, site=setup_site)
class DeskUserAdmin(WritesThroughServices, UserAdmin):
    form = DeskUserChangeForm
    add_form = DeskUserCreationForm
    change_password_form = DeskPasswordChangeForm
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
    change_form_template = "admin/accounts/user/change_form.html"
    readonly_fields = (
        "sign_in_lockout",
        "last_login",
        "date_joined",
        "presence_changed_at",
        "last_seen_at",
        "last_assigned_at",
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "Desk",
            {
                "fields": (
                    "role",
                    "display_name",
                    "departments",
                    "capacity",
                    "presence",
                    "time_zone",
                )
            },
        ),
        ("Personal details", {"fields": ("first_name", "last_name", "email")}),
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "sign_in_lockout",
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

    @admin.display(description="Signing in")
    def sign_in_lockout(self, obj: User | None) -> str:
        lockouts = account_queries.sign_in_lockouts(obj) if obj is not None and obj.pk else []
        if not lockouts:
            return "Not locked out."
        return " ".join(
            f"Locked out from {lockout.address} after {lockout.failures} failed sign-ins, "
            f"until {timezone.localtime(lockout.until):%H:%M %Z} (or until unlocked)."
            for lockout in lockouts
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        context["locked_out"] = bool(
            obj is not None and obj.pk and account_queries.sign_in_lockouts(obj)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        unlock = self.admin_site.admin_view(require_POST(self.unlock_view))
        return [
            path("<int:object_id>/unlock/", unlock, name="accounts_user_unlock"),
            *super().get_urls(),
        ]

    def unlock_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        """POST only: the user may sign in again at once; kept in the user's history."""
        user = get_object_or_404(User, pk=object_id)
        unlocked = account_services.unlock_sign_in(user=user, by=acting_user(request))
        if unlocked:
            self.log_change(request, user, "Unlocked signing in.")
            self.message_user(
                request, f"{user} ({user.username}) can sign in again.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, f"{user} ({user.username}) was not locked out.", messages.INFO
            )
        return HttpResponseRedirect(reverse("setup:accounts_user_change", args=[user.pk]))

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        token = _password_changed_by.set(acting_user(request))
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_changed_by.reset(token)

    @admin.display(description="Departments")
    def department_list(self, obj: User) -> str:
        return ", ".join(d.name for d in obj.departments.all()) or "—"

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        by = acting_user(request)
        if not change:
            saved = people.create_user(
                username=data["username"],
                password=data["password1"] if data.get("set_usable_password") else None,
                role=data["role"],
                display_name=data.get("display_name") or "",
                capacity=data.get("capacity"),
                department_ids=[d.pk for d in data.get("departments") or ()],
                by=by,
            )
        else:
            changed = set(form.changed_data)
            fields = {
                name: data[name] for name in (*USER_FIELDS, *PERSONAL_FIELDS) if name in changed
            }
            departments = [d.pk for d in data["departments"]] if "departments" in changed else None
            saved = change_user(
                user=User.objects.get(pk=obj.pk),
                changes=account_services.UserChanges(department_ids=departments, **fields),
                by=by,
            )
            if "presence" in changed:
                saved = presence.set_presence(user=saved, status=data["presence"])
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(Department, site=setup_site)
class DepartmentAdmin(WritesThroughServices):
    form = DepartmentAdminForm
    list_display = ("name", "description", "member_count", "created_at")
    search_fields = ("name", "description")
    list_filter = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_count)

    def save_model(
        self, request: HttpRequest, obj: Department, form: ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if not change:
            saved = routing_services.create_department(
                name=data["name"], description=data.get("description", ""), by=acting_user(request)
            )
        else:
            saved = routing_services.update_department(
                department=obj,
                name=data["name"],
                description=data.get("description", ""),
                by=acting_user(request),
            )
        obj.pk = saved.pk
        obj.refresh_from_db()


# Business hours, channels and templates (in their own modules), in the index's order.

setup_site.register(BusinessHours, BusinessHoursAdmin)
setup_site.register(Channel, ChannelAdmin)
setup_site.register(Template, TemplateAdmin)


@admin.register(ProviderEvent, site=setup_site)
class ProviderEventAdmin(ReadOnlyAdmin):
    """What a provider sent that the desk could not read, with the reason: the webhook was
    answered 2xx, so nothing else shows it."""

    list_display = ("received_at", "channel", "kind", "reason", "provider_message_id")
    list_filter = ("kind", "channel")
    search_fields = ("reason", "provider_message_id")
    list_select_related = ("channel",)
    fields = ("received_at", "channel", "kind", "reason", "provider_message_id", "as_sent")
    readonly_fields = fields

    @admin.display(description="As the provider sent it")
    def as_sent(self, obj: ProviderEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))


# Contacts and chats


@admin.register(Contact, site=setup_site)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "phone", "username", "provider_user_id", "created_at")
    search_fields = ("phone", "name", "username", "provider_user_id")
    list_filter = ("created_at",)


@admin.register(ContactOptOut, site=setup_site)
class ContactOptOutAdmin(ReadOnlyAdmin):
    list_display = ("contact", "channel", "keyword", "created_at")
    list_filter = ("channel",)
    search_fields = ("contact__phone", "contact__name", "contact__username", "keyword")
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
    search_fields = (
        "contact__phone",
        "contact__name",
        "contact__username",
        "contact__provider_user_id",
        "agent__username",
    )
    list_select_related = ("contact", "channel", "agent", "department")
    inlines = (MessageInline, CommentInline, ChatEventInline)


@admin.register(Message, site=setup_site)
class MessageAdmin(Internal):
    list_display = ("id", "chat", "direction", "content_type", "status", "summary", "created_at")
    list_filter = ("direction", "status", "content_type", "channel")
    search_fields = ("text", "provider_message_id", "chat__contact__phone")
    list_select_related = ("chat__contact",)

    @admin.display(description="Text")
    def summary(self, obj: Message) -> str:
        return _short(obj.text)


@admin.register(Comment, site=setup_site)
class CommentAdmin(Internal):
    list_display = ("id", "chat", "author", "summary", "created_at")
    list_filter = ("author",)
    search_fields = ("body", "author__username")
    list_select_related = ("chat__contact", "author")

    @admin.display(description="Comment")
    def summary(self, obj: Comment) -> str:
        return _short(obj.body)


@admin.register(ChatEvent, site=setup_site)
class ChatEventAdmin(Internal):
    list_display = ("chat", "kind", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("chat__contact__phone", "actor__username")
    list_select_related = ("chat__contact", "actor")


@admin.register(Notification, site=setup_site)
class NotificationAdmin(Internal):
    list_display = ("recipient", "kind", "chat", "read_at", "created_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__username",)
    list_select_related = ("recipient", "chat__contact")


# Accounts: live connections and API tokens


@admin.register(Connection, site=setup_site)
class ConnectionAdmin(Internal):
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
