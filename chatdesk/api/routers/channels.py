"""/channels: our numbers on each provider. Secrets go in and never come back out."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import errors
from chatdesk.providers import access, connection, queries, services
from chatdesk.providers.models import MAX_SEND_RATE, MIN_SEND_RATE, Channel

router = Router(tags=["channels"])

ChannelKindName = Literal["whatsapp", "sms", "sandbox"]

CONFIG_HELP = (
    "whatsapp: phone_number_id, access_token, app_secret, verify_token, and optionally "
    "graph_api_url (default https://graph.facebook.com/v21.0) and waba_id; "
    "sms: account_sid, auth_token, from_number (E.164), and optionally api_url "
    "(default https://api.twilio.com); sandbox: nothing. access_token, app_secret, "
    "verify_token and auth_token are secrets: stored, never returned."
)

SEND_RATE_HELP = (
    f"Messages per second this channel may send, across all workers ({MIN_SEND_RATE} to "
    f"{MAX_SEND_RATE}). WhatsApp allows 80 by default, 1,000 on Meta's higher tier."
)


OUT_OF_HOURS_HELP = "Sent to a new chat outside business hours (it becomes a ticket)."
NOBODY_AVAILABLE_HELP = (
    "Sent to a new chat in business hours when no agent is online and available (it "
    "becomes a ticket)."
)


class ChannelIn(Schema):
    kind: ChannelKindName
    name: str
    department_id: int | None = None
    out_of_hours_reply: str | None = Field(
        None, description=OUT_OF_HOURS_HELP + " Omitted: the default reply."
    )
    queue_reply: str | None = Field(None, description="Omitted: the default reply.")
    nobody_available_reply: str | None = Field(
        None, description=NOBODY_AVAILABLE_HELP + " Omitted: the default reply."
    )
    end_keyword: str | None = Field(None, description="Omitted: //end.")
    config: dict[str, Any] = Field(default_factory=dict, description=CONFIG_HELP)
    send_rate: int | None = Field(
        None, description=SEND_RATE_HELP + " Omitted: the desk's default (80)."
    )
    is_active: bool = Field(
        True, description="An active channel needs all its secrets; an inactive one may wait."
    )


class ChannelPatch(Schema):
    """Only what is sent changes. ``config`` is merged key by key (a secret can be
    replaced alone); a null value drops an optional key; ``department_id: null`` clears
    the department."""

    kind: ChannelKindName | None = Field(None, description="Cannot change; only checked.")
    name: str | None = None
    department_id: int | None = None
    out_of_hours_reply: str | None = Field(None, description=OUT_OF_HOURS_HELP)
    queue_reply: str | None = None
    nobody_available_reply: str | None = Field(None, description=NOBODY_AVAILABLE_HELP)
    end_keyword: str | None = None
    config: dict[str, Any] | None = Field(None, description=CONFIG_HELP)
    is_active: bool | None = None
    send_rate: int | None = Field(None, description=SEND_RATE_HELP)


class ChannelOut(Schema):
    id: int
    kind: ChannelKindName
    name: str
    department_id: int | None
    out_of_hours_reply: str = Field(description=OUT_OF_HOURS_HELP)
    queue_reply: str
    nobody_available_reply: str = Field(description=NOBODY_AVAILABLE_HELP)
    end_keyword: str
    is_active: bool
    send_rate: int = Field(description=SEND_RATE_HELP)
    config: dict[str, str] = Field(description="The non-secret settings only.")
    secrets_set: list[str] = Field(description="Names of the secrets that are set.")
    webhook_url: str | None = Field(description="Give this to the provider; null for sandbox.")


def _out(request: HttpRequest, channel: Channel) -> dict[str, Any]:
    # Built key by key from what may be shown: Channel.secrets is never read here.
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "name": channel.name,
        "department_id": channel.department_id,
        "out_of_hours_reply": channel.out_of_hours_reply,
        "queue_reply": channel.queue_reply,
        "nobody_available_reply": channel.nobody_available_reply,
        "end_keyword": channel.end_keyword,
        "is_active": channel.is_active,
        "send_rate": channel.send_rate,
        "config": queries.public_config(channel),
        "secrets_set": queries.secrets_set(channel),
        "webhook_url": queries.webhook_url(channel, request_base=request.build_absolute_uri("/")),
    }


@router.get("", response={200: list[ChannelOut], **errors(401)})
def list_channels(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(request, channel) for channel in queries.channels()]


@router.post("", response={201: ChannelOut, **errors(400, 401, 403, 409)})
def create_channel(request: HttpRequest, payload: ChannelIn) -> Status[dict[str, Any]]:
    channel = services.create_channel(
        kind=payload.kind,
        name=payload.name,
        department_id=payload.department_id,
        out_of_hours_reply=payload.out_of_hours_reply,
        queue_reply=payload.queue_reply,
        nobody_available_reply=payload.nobody_available_reply,
        end_keyword=payload.end_keyword,
        config=payload.config,
        send_rate=payload.send_rate,
        is_active=payload.is_active,
        by=acting_user(request),
    )
    return Status(201, _out(request, channel))


@router.get("/{channel_id}", response={200: ChannelOut, **errors(400, 401, 404)})
def get_channel(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    return _out(request, access.channel_for(acting_user(request), channel_id))


@router.patch("/{channel_id}", response={200: ChannelOut, **errors(400, 401, 403, 404, 409)})
def update_channel(request: HttpRequest, channel_id: int, payload: ChannelPatch) -> dict[str, Any]:
    by = acting_user(request)
    sent = payload.model_fields_set
    channel = services.update_channel(
        channel=access.channel_for(by, channel_id),
        changes=services.ChannelChanges(
            kind=payload.kind,
            name=payload.name,
            department_id=payload.department_id if "department_id" in sent else services.KEEP,
            out_of_hours_reply=payload.out_of_hours_reply,
            queue_reply=payload.queue_reply,
            nobody_available_reply=payload.nobody_available_reply,
            end_keyword=payload.end_keyword,
            config=payload.config,
            is_active=payload.is_active,
            send_rate=payload.send_rate,
        ),
        by=by,
    )
    return _out(request, channel)


class ConnectionCheckOut(Schema):
    ok: bool
    detail: str = Field(description="What the provider said, in a sentence.")


@router.post(
    "/{channel_id}/connection-test",
    response={200: ConnectionCheckOut, **errors(400, 401, 403, 404)},
)
def check_channel_connection(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    """The provider's cheapest authenticated read with the stored settings; writes nothing."""
    by = acting_user(request)
    result = connection.check_connection(channel=access.channel_for(by, channel_id), by=by)
    return {"ok": result.ok, "detail": result.sentence}
