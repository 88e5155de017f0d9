"""The set-up pages for channels and templates, written by ``providers.services`` as the
API writes them: the same checks of the config, URLs, numbers and template bodies."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse

from chatdesk.core.errors import DeskError
from chatdesk.providers import services as provider_services
from chatdesk.providers.models import Channel, Template
from chatdesk.providers.queries import webhook_url
from chatdesk.providers.template_sync import sync_templates
from chatdesk.web.admin_writes import WritesThroughServices, acting_user
from chatdesk.web.forms import CHANNEL_SECRETS, ChannelAdminForm

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
                    kind=data["kind"],
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
