"""Reads about channels and templates, what each channel kind's config holds, and what
the providers sent that the desk kept unread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, QuerySet

from chatdesk.providers.models import (
    Channel,
    ChannelKind,
    ProviderEvent,
    ProviderEventKind,
    Template,
)

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v21.0"
DEFAULT_TWILIO_API_URL = "https://api.twilio.com"


@dataclass(frozen=True)
class ConfigSpec:
    """The config keys a channel kind takes. Secrets are stored apart (``Channel.secrets``)
    and are never read back; the rest is ``Channel.config`` and may be shown."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    secrets: frozenset[str] = frozenset()
    defaults: Mapping[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def public_keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k not in self.secrets)


CONFIG_SPECS: Mapping[str, ConfigSpec] = {
    ChannelKind.WHATSAPP: ConfigSpec(
        required=("phone_number_id", "access_token", "app_secret", "verify_token"),
        optional=("graph_api_url", "waba_id"),
        secrets=frozenset({"access_token", "app_secret", "verify_token"}),
        defaults={"graph_api_url": DEFAULT_GRAPH_API_URL},
    ),
    ChannelKind.SMS: ConfigSpec(
        required=("account_sid", "auth_token", "from_number"),
        optional=("api_url",),
        secrets=frozenset({"auth_token"}),
        defaults={"api_url": DEFAULT_TWILIO_API_URL},
    ),
    ChannelKind.SANDBOX: ConfigSpec(optional=("contact_window",)),
}

# A sandbox channel may keep WhatsApp's 24-hour contact window, so that the window and the
# templates can be tried with the simulator, without Meta.
SANDBOX_WINDOW_MODES = ("whatsapp",)

WEBHOOK_PATHS: Mapping[str, str] = {
    ChannelKind.WHATSAPP: "/webhooks/whatsapp/{id}",
    ChannelKind.SMS: "/webhooks/sms/{id}",
}


# What each config key is called on a page and in a refusal.
CONFIG_LABELS: Mapping[str, str] = {
    "phone_number_id": "phone number ID",
    "waba_id": "WhatsApp Business account ID",
    "graph_api_url": "Graph API URL",
    "access_token": "access token",
    "app_secret": "app secret",
    "verify_token": "verify token",
    "account_sid": "account SID",
    "auth_token": "auth token",
    "from_number": "from number",
    "api_url": "API URL",
}


def config_label(key: str) -> str:
    return CONFIG_LABELS.get(key, key)


def missing_secrets(channel: Channel) -> list[str]:
    """The secrets the channel's kind needs that it does not have (names, never values)."""
    spec = config_spec(channel.kind)
    stored = channel.secrets if isinstance(channel.secrets, dict) else {}
    return [key for key in spec.required if key in spec.secrets and not stored.get(key)]


def config_spec(kind: str) -> ConfigSpec:
    return CONFIG_SPECS.get(kind, ConfigSpec())


def keeps_whatsapp_window(channel: Channel) -> bool:
    """Whether free text to this channel's contacts is limited to WhatsApp's contact window:
    a WhatsApp channel, or a sandbox channel set to play one (``contact_window``)."""
    if channel.kind == ChannelKind.WHATSAPP:
        return True
    if channel.kind != ChannelKind.SANDBOX or not isinstance(channel.config, dict):
        return False
    return channel.config.get("contact_window") in SANDBOX_WINDOW_MODES


def public_config(channel: Channel) -> dict[str, str]:
    """The config a person may see: only the kind's non-secret keys, whatever is stored."""
    stored = channel.config if isinstance(channel.config, dict) else {}
    return {
        key: str(stored[key])
        for key in config_spec(channel.kind).public_keys
        if stored.get(key) not in (None, "")
    }


def secrets_set(channel: Channel) -> list[str]:
    """The names (never the values) of the secrets this channel has."""
    stored = channel.secrets if isinstance(channel.secrets, dict) else {}
    return sorted(name for name in config_spec(channel.kind).secrets if stored.get(name))


# The secret a kind's webhook checks each request's signature with, and its name.
SIGNING_SECRETS: Mapping[str, tuple[str, str]] = {
    ChannelKind.WHATSAPP: ("app_secret", "app secret"),
    ChannelKind.SMS: ("auth_token", "auth token"),
}


def stored_secret(channel: Channel, name: str) -> str:
    """A secret's value, to check a signature or call the provider, never to show: ""
    when it is not set, or when what is stored is not an object at all."""
    stored = channel.secrets if isinstance(channel.secrets, dict) else {}
    value = stored.get(name)
    return str(value) if value not in (None, "") else ""


def channel_faults() -> list[tuple[Channel, str]]:
    """The active channels whose stored settings their webhook cannot work with, each with
    a sentence: what is wrong, what happens meanwhile, how to correct it."""
    faults: list[tuple[Channel, str]] = []
    for channel in Channel.objects.filter(is_active=True).order_by("pk"):
        if not isinstance(channel.config, dict) or not isinstance(channel.secrets, dict):
            faults.append(
                (
                    channel,
                    f"Channel {channel.name}: its stored settings are not a JSON object, so "
                    "they are read as empty. Enter its provider settings and secrets again.",
                )
            )
            continue
        signing = SIGNING_SECRETS.get(channel.kind)
        if signing is not None and not stored_secret(channel, signing[0]):
            faults.append(
                (
                    channel,
                    f"Channel {channel.name}: it has no {signing[1]}, so its webhook cannot "
                    "check the provider's signature and refuses every message (403; the "
                    f"provider retries them later). Set the {signing[1]}.",
                )
            )
    return faults


def webhook_url(channel: Channel, *, request_base: str) -> str | None:
    """Where the provider must call us for this channel (None for the sandbox): under
    CHATDESK_PUBLIC_URL when it is set, else under the base the request came in on."""
    path = WEBHOOK_PATHS.get(channel.kind)
    if path is None:
        return None
    base = getattr(settings, "PUBLIC_URL", None) or request_base
    return base.rstrip("/") + path.format(id=channel.pk)


def channels() -> QuerySet[Channel]:
    return Channel.objects.order_by("name", "pk")


def templates(*, channel_id: int | None = None, status: str | None = None) -> QuerySet[Template]:
    rows = Template.objects.order_by("name", "language", "pk")
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    if status is not None:
        rows = rows.filter(status=status)
    return rows


@dataclass(frozen=True)
class UnreadableSummary:
    count: int
    latest: datetime | None


def unreadable_summary(channel: Channel) -> UnreadableSummary:
    """How many unreadable items the channel's provider sent, and when the latest came."""
    found = ProviderEvent.objects.filter(
        channel=channel, kind=ProviderEventKind.UNREADABLE
    ).aggregate(count=Count("id"), latest=Max("received_at"))
    return UnreadableSummary(count=found["count"], latest=found["latest"])
