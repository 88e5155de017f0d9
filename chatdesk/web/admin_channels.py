"""The set-up pages for channels and templates, written by ``providers.services`` as the
API writes them: the same checks of the config, URLs, numbers and template bodies."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from chatdesk.core.errors import DeskError
from chatdesk.providers import services as provider_services
from chatdesk.providers.connection import check_connection
from chatdesk.providers.models import Channel, ChannelKind, Template
from chatdesk.providers.queries import (
    config_label,
    missing_secrets,
    unreadable_summary,
    webhook_url,
)
from chatdesk.providers.template_sync import sync_templates
from chatdesk.web.admin_writes import WritesThroughServices, acting_user
from chatdesk.web.forms import ChannelAdminForm, channel_fields_of

_request_base: ContextVar[str] = ContextVar("request_base", default="")


def _same(obj: Any, saved: Any) -> None:
    """The admin goes on with the object it built; make it the row the service saved."""
    obj.pk = saved.pk
    obj.refresh_from_db()


class ChannelAdmin(WritesThroughServices):
    form = ChannelAdminForm
    list_display = ("name", "kind", "department", "is_active", "secrets_state", "created_at")
    list_filter = ("kind", "is_active", "department")
    search_fields = ("name",)
    list_select_related = ("department",)
    readonly_fields = ("webhook_to_paste", "unreadable_items")
    change_form_template = "admin/providers/channel/change_form.html"

    class Media:
        js = ("web/setup_channel.js",)

    def get_fieldsets(self, request: HttpRequest, obj: Channel | None = None) -> Any:
        """The settings and secrets of the channel's kind, by name; on the add page every
        kind's, each shown only while its kind is chosen (``setup_channel.js``)."""
        kinds = [obj.kind] if obj is not None and obj.pk else list(ChannelKind.values)
        provider: list[Any] = []
        for kind in kinds:
            settings, secrets = channel_fields_of(kind)
            if not settings and not secrets:
                continue
            label = ChannelKind(kind).label
            provider.append(
                (
                    f"{label} settings",
                    {"fields": tuple(settings), "classes": ("channel-kind", f"kind-{kind}")},
                )
            )
            if not secrets:
                continue
            provider.append(
                (
                    f"{label} secrets",
                    {
                        "fields": tuple(secrets),
                        "classes": ("channel-kind", f"kind-{kind}"),
                        "description": (
                            "Write-only: never shown again, only whether each is set. Leave "
                            "a field blank to keep the stored value; type a new one to "
                            "replace it."
                        ),
                    },
                )
            )
        return (
            (None, {"fields": ("kind", "name", "department", "is_active")}),
            *provider,
            (
                "Webhook",
                {
                    "fields": ("webhook_to_paste", "unreadable_items"),
                    "description": (
                        "Paste this URL into Meta's app dashboard (WhatsApp → Configuration → "
                        "Callback URL, with the verify token) or into Twilio's number "
                        "settings (A message comes in → Webhook, HTTP POST)."
                    ),
                },
            ),
            (
                "Automatic replies",
                {
                    "fields": (
                        "out_of_hours_reply",
                        "nobody_available_reply",
                        "queue_reply",
                        "end_keyword",
                    )
                },
            ),
            ("Sending", {"fields": ("send_rate",)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A channel's kind never changes (the service refuses it): add a new channel.
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "kind") if obj is not None and obj.pk else fields

    def get_urls(self) -> list[URLPattern]:
        test = self.admin_site.admin_view(require_POST(self.test_connection_view))
        return [
            path("<int:object_id>/test-connection/", test, name="providers_channel_test"),
            *super().get_urls(),
        ]

    def test_connection_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        """POST only: the provider's cheapest authenticated read, the answer as a message."""
        channel = get_object_or_404(Channel, pk=object_id)
        self._report_connection(request, channel)
        return HttpResponseRedirect(reverse("setup:providers_channel_change", args=[channel.pk]))

    def _report_connection(self, request: HttpRequest, channel: Channel) -> None:
        result = check_connection(channel=channel, by=acting_user(request))
        if result.ok:
            self.message_user(
                request, f"{channel.name}: connection works. {result.sentence}", messages.SUCCESS
            )
        else:
            self.message_user(
                request, f"{channel.name}: connection failed. {result.sentence}", messages.ERROR
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

    def save_model(self, request: HttpRequest, obj: Channel, form: ModelForm, change: bool) -> None:
        assert isinstance(form, ChannelAdminForm)
        data = form.cleaned_data
        department = data.get("department")
        if not change:
            saved = provider_services.create_channel(
                kind=data["kind"],
                name=data["name"],
                department_id=department.pk if department is not None else None,
                out_of_hours_reply=data.get("out_of_hours_reply", ""),
                queue_reply=data.get("queue_reply", ""),
                nobody_available_reply=data.get("nobody_available_reply", ""),
                end_keyword=data.get("end_keyword", ""),
                config=form.service_config(),
                send_rate=data.get("send_rate"),
                is_active=bool(data.get("is_active")),
                by=acting_user(request),
            )
        else:
            stored = Channel.objects.get(pk=obj.pk)
            saved = provider_services.update_channel(
                channel=stored,
                changes=provider_services.ChannelChanges(
                    name=data["name"],
                    department_id=department.pk if department is not None else None,
                    out_of_hours_reply=data.get("out_of_hours_reply", ""),
                    queue_reply=data.get("queue_reply", ""),
                    nobody_available_reply=data.get("nobody_available_reply", ""),
                    end_keyword=data.get("end_keyword", ""),
                    config=form.service_config(stored),
                    is_active=bool(data.get("is_active")),
                    send_rate=data.get("send_rate"),
                ),
                by=acting_user(request),
            )
        _same(obj, saved)

    @admin.display(description="Webhook URL")
    def webhook_to_paste(self, obj: Channel | None) -> str:
        if obj is None or obj.pk is None:
            return "Shown once the channel is saved."
        url = webhook_url(obj, request_base=_request_base.get())
        return url or "None needed: the sandbox channel is driven from the simulator."

    @admin.display(description="Unreadable items")
    def unreadable_items(self, obj: Channel | None) -> str:
        """What the provider sent on this channel that the desk could not read, linked."""
        if obj is None or obj.pk is None:
            return "None yet."
        kept = unreadable_summary(obj)
        if kept.count == 0:
            return "None: every item the provider sent was read."
        url = reverse("setup:providers_providerevent_changelist") + f"?channel__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{} kept</a>, the latest at {}: the webhook was answered, so the '
            "provider will not send them again. Each shows why it could not be read.",
            url,
            f"{kept.count} item" + ("s" if kept.count != 1 else ""),
            date_format(localtime(kept.latest), "DATETIME_FORMAT"),
        )

    @admin.display(description="Secrets")
    def secrets_state(self, obj: Channel) -> str:
        """Which secrets the kind needs are missing: names only, never values."""
        if not channel_fields_of(obj.kind)[1]:
            return "none needed"
        missing = [config_label(name) for name in missing_secrets(obj)]
        return "missing " + ", ".join(missing) if missing else "all set"

    actions = ["test_connections", "sync_templates_from_meta"]

    @admin.action(description="Test the connection to the provider")
    def test_connections(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            self._report_connection(request, channel)

    @admin.action(description="Sync WhatsApp templates from Meta")
    def sync_templates_from_meta(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            try:
                result = sync_templates(channel=channel, by=acting_user(request))
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


class TemplateAdmin(WritesThroughServices):
    list_display = ("name", "language", "category", "status", "channel", "variables", "updated_at")
    list_filter = ("status", "category", "language", "channel")
    search_fields = ("name", "body", "provider_template_id")
    list_select_related = ("channel",)
    fields = ("channel", "name", "language", "category", "body", "status", "provider_template_id")
    # Meta's id comes with a sync from Meta; it is not typed in.
    readonly_fields = ("provider_template_id",)

    @admin.display(description="Variables")
    def variables(self, obj: Template) -> int:
        return obj.variable_count

    def save_model(
        self, request: HttpRequest, obj: Template, form: ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if not change:
            saved = provider_services.create_template(
                channel_id=data["channel"].pk,
                name=data["name"],
                body=data["body"],
                language=data["language"],
                category=data["category"],
                status=data["status"],
                by=acting_user(request),
            )
        else:
            saved = provider_services.update_template(
                template=Template.objects.get(pk=obj.pk),
                changes=provider_services.TemplateChanges(
                    channel_id=data["channel"].pk,
                    name=data["name"],
                    language=data["language"],
                    category=data["category"],
                    body=data["body"],
                    status=data["status"],
                ),
                by=acting_user(request),
            )
        _same(obj, saved)
