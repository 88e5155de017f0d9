"""Forms of the set-up pages that need more than the model gives."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm, UsernameField

from chatdesk.accounts.models import MAX_CAPACITY, MIN_CAPACITY, User
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.queries import public_config

# The secret of each form field, and the channel kind that uses it. Secrets are written
# here and never read back: the inputs start empty, and an empty one keeps what is stored.
CHANNEL_SECRETS: dict[str, tuple[str, str]] = {
    "access_token": (ChannelKind.WHATSAPP, "Access token"),
    "app_secret": (ChannelKind.WHATSAPP, "App secret"),
    "verify_token": (ChannelKind.WHATSAPP, "Verify token"),
    "auth_token": (ChannelKind.SMS, "Auth token"),
}


def _secret_field(kind: str, label: str) -> forms.CharField:
    return forms.CharField(
        label=f"{label} ({ChannelKind(kind).label})",
        required=False,
        strip=True,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class ChannelAdminForm(forms.ModelForm):
    access_token = _secret_field(*CHANNEL_SECRETS["access_token"])
    app_secret = _secret_field(*CHANNEL_SECRETS["app_secret"])
    verify_token = _secret_field(*CHANNEL_SECRETS["verify_token"])
    auth_token = _secret_field(*CHANNEL_SECRETS["auth_token"])

    class Meta:
        model = Channel
        # Never "secrets": the stored values must not reach a page.
        fields = [
            "kind",
            "name",
            "department",
            "is_active",
            "out_of_hours_reply",
            "nobody_available_reply",
            "queue_reply",
            "end_keyword",
            "config",
        ]
        widgets = {
            "out_of_hours_reply": forms.Textarea(attrs={"rows": 3}),
            "nobody_available_reply": forms.Textarea(attrs={"rows": 3}),
            "queue_reply": forms.Textarea(attrs={"rows": 3}),
            "config": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        }
        help_texts = {
            "config": (
                "Settings that may be shown, as a JSON object. WhatsApp: phone_number_id, "
                "graph_api_url (optional). SMS: account_sid, from_number, api_url (optional). "
                "Tokens and secrets go in their own fields below, never here."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.secrets if isinstance(self.instance.secrets, dict) else {}
        for name in CHANNEL_SECRETS:
            self.fields[name].help_text = (
                "Stored. Leave blank to keep it; type a new value to replace it."
                if stored.get(name)
                else "Not set."
            )

    def clean_config(self) -> dict[str, Any]:
        config = self.cleaned_data.get("config")
        if config in (None, ""):
            return {}
        if not isinstance(config, dict):
            raise forms.ValidationError('The config must be a JSON object, like {"key": "value"}.')
        misplaced = sorted(set(config) & set(CHANNEL_SECRETS))
        if misplaced:
            raise forms.ValidationError(
                "Secrets don't belong in the config, where they would be shown: put "
                + ", ".join(misplaced)
                + " in the secret fields below."
            )
        return config

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        for name, (secret_kind, label) in CHANNEL_SECRETS.items():
            if cleaned.get(name) and kind and kind != secret_kind:
                self.add_error(
                    name,
                    f"Only {ChannelKind(secret_kind).label} channels use a {label.lower()}.",
                )
        return cleaned

    def service_config(self, stored: Channel | None = None) -> dict[str, object]:
        """The ``config`` to hand the channel services: the config typed here with the
        secrets typed below. On a change, a key taken out of the config is dropped (the
        services merge key by key) and a blank secret keeps the stored one."""
        config: dict[str, object] = dict(self.cleaned_data.get("config") or {})
        if stored is not None:
            for key in public_config(stored):
                config.setdefault(key, None)
        for name in CHANNEL_SECRETS:
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
