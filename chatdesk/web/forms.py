"""Forms of the set-up pages that need more than the model gives."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm, UsernameField

from chatdesk.accounts.models import MAX_CAPACITY, MIN_CAPACITY, User
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.queries import (
    DEFAULT_GRAPH_API_URL,
    DEFAULT_TWILIO_API_URL,
    public_config,
)
from chatdesk.routing.models import Department

# The secret of each form field, and the channel kind that uses it. Secrets are written
# here and never read back: the inputs start empty, and an empty one keeps what is stored.
CHANNEL_SECRETS: dict[str, tuple[str, str]] = {
    "access_token": (ChannelKind.WHATSAPP, "Access token"),
    "app_secret": (ChannelKind.WHATSAPP, "App secret"),
    "verify_token": (ChannelKind.WHATSAPP, "Verify token"),
    "auth_token": (ChannelKind.SMS, "Auth token"),
}

# The settings each kind takes that may be shown, as named fields (the services check
# them: the same sentences as the API's).
CHANNEL_SETTINGS: dict[str, tuple[str, str, str]] = {
    "phone_number_id": (
        ChannelKind.WHATSAPP,
        "Phone number ID",
        "Meta's id of the number (digits, such as 106540352242922), from WhatsApp → API "
        "Setup in Meta's app dashboard: not the phone number itself.",
    ),
    "waba_id": (
        ChannelKind.WHATSAPP,
        "WhatsApp Business account ID",
        "Digits, from the same page. Needed to sync templates from Meta.",
    ),
    "graph_api_url": (
        ChannelKind.WHATSAPP,
        "Graph API URL",
        f"Leave blank for Meta's, {DEFAULT_GRAPH_API_URL}.",
    ),
    "account_sid": (
        ChannelKind.SMS,
        "Account SID",
        "From the provider's console (Twilio's start with AC).",
    ),
    "from_number": (
        ChannelKind.SMS,
        "From number",
        "The number messages go out from, in E.164 form such as +14155552671.",
    ),
    "api_url": (
        ChannelKind.SMS,
        "API URL",
        f"Leave blank for Twilio's, {DEFAULT_TWILIO_API_URL}.",
    ),
    "contact_window": (
        ChannelKind.SANDBOX,
        "Contact window",
        "Keep WhatsApp's 24-hour window to try it and templates with the simulator: free "
        "text only within 24 hours of the customer's last message, a template after.",
    ),
}


def channel_fields_of(kind: str) -> tuple[list[str], list[str]]:
    """The form's (settings, secrets) fields for one kind, in order."""
    return (
        [name for name, (of, *_) in CHANNEL_SETTINGS.items() if of == kind],
        [name for name, (of, _) in CHANNEL_SECRETS.items() if of == kind],
    )


def _secret_field(kind: str, label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def _setting_field(kind: str, label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=1000,
        help_text=help_text,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )


class NamesCheckedByTheService(forms.ModelForm):
    """A name already taken (in any case) is the service's to refuse, with the API's
    sentence: the model's unique index on Lower(name) is not checked here first."""

    def _get_validation_exclusions(self) -> set[str]:
        kept = super()._get_validation_exclusions()  # type: ignore[misc]
        return {*kept, "name"}


class DepartmentAdminForm(NamesCheckedByTheService):
    class Meta:
        model = Department
        fields = ["name", "description"]


class ChannelAdminForm(NamesCheckedByTheService):
    phone_number_id = _setting_field(*CHANNEL_SETTINGS["phone_number_id"])
    waba_id = _setting_field(*CHANNEL_SETTINGS["waba_id"])
    graph_api_url = _setting_field(*CHANNEL_SETTINGS["graph_api_url"])
    account_sid = _setting_field(*CHANNEL_SETTINGS["account_sid"])
    from_number = _setting_field(*CHANNEL_SETTINGS["from_number"])
    api_url = _setting_field(*CHANNEL_SETTINGS["api_url"])
    contact_window = forms.ChoiceField(
        label=CHANNEL_SETTINGS["contact_window"][1],
        help_text=CHANNEL_SETTINGS["contact_window"][2],
        required=False,
        choices=[("", "None (as SMS)"), ("whatsapp", "WhatsApp's 24-hour window")],
    )
    access_token = _secret_field(*CHANNEL_SECRETS["access_token"])
    app_secret = _secret_field(*CHANNEL_SECRETS["app_secret"])
    verify_token = _secret_field(*CHANNEL_SECRETS["verify_token"])
    auth_token = _secret_field(*CHANNEL_SECRETS["auth_token"])

    class Meta:
        model = Channel
        # Never "secrets": the stored values must not reach a page. The config is the
        # named fields above, never a JSON box.
        fields = [
            "kind",
            "name",
            "department",
            "is_active",
            "out_of_hours_reply",
            "nobody_available_reply",
            "queue_reply",
            "end_keyword",
        ]
        widgets = {
            "out_of_hours_reply": forms.Textarea(attrs={"rows": 3}),
            "nobody_available_reply": forms.Textarea(attrs={"rows": 3}),
            "queue_reply": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "is_active": (
                "An active channel takes messages and sends replies; it needs all its "
                "secrets. Leave it off to save the channel before you have them."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.secrets if isinstance(self.instance.secrets, dict) else {}
        for name in CHANNEL_SECRETS:
            if name in self.fields:
                self.fields[name].help_text = (
                    "Set. Leave blank to keep it; type a new value to replace it."
                    if stored.get(name)
                    else "Not set."
                )
        if self.instance.pk is not None:
            shown = public_config(self.instance)
            for name in CHANNEL_SETTINGS:
                if name in self.fields:
                    self.fields[name].initial = shown.get(name, "")

    def _kind(self, cleaned: dict[str, Any]) -> str | None:
        kind = cleaned.get("kind") or (self.instance.kind if self.instance.pk else None)
        return str(kind) if kind else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = self._kind(cleaned)
        for name, (of, label, *_) in {**CHANNEL_SETTINGS, **CHANNEL_SECRETS}.items():
            if cleaned.get(name) and kind and kind != of:
                article = "an" if label[0] in "AEIOU" else "a"
                self.add_error(
                    name, f"Only {ChannelKind(of).label} channels use {article} {label.lower()}."
                )
        return cleaned

    def service_config(self, stored: Channel | None = None) -> dict[str, object]:
        """The ``config`` to hand the channel services: the kind's settings and the
        secrets typed here. A setting left blank is dropped (the service fills in a
        default URL again); a blank secret keeps the stored one."""
        kind = self._kind(self.cleaned_data) or ""
        settings, secrets = channel_fields_of(kind)
        config: dict[str, object] = {name: self.cleaned_data.get(name) or None for name in settings}
        if stored is None:
            config = {name: value for name, value in config.items() if value is not None}
        for name in secrets:
            value = self.cleaned_data.get(name)
            if value:
                config[name] = value
        return config


def _check_capacity(capacity: int | None) -> int | None:
    if capacity is not None and not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise forms.ValidationError(
            f"Capacity must be between {MIN_CAPACITY} and {MAX_CAPACITY} open chats."
        )
    return capacity


class DeskUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "display_name", "role", "capacity", "departments")
        field_classes = {"username": UsernameField}

    def clean_capacity(self) -> int | None:
        return _check_capacity(self.cleaned_data.get("capacity"))


class DeskUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}

    def clean_capacity(self) -> int | None:
        return _check_capacity(self.cleaned_data.get("capacity"))
