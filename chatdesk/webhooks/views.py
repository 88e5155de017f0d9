"""Webhooks the providers call. Each checks the signature on the raw request, parses the
documented payload, and hands it to the inbound flow. Bad signature: 403 and nothing stored;
a body that is not the provider's envelope: 400 with the reason; an item inside it the desk
cannot read: kept raw for the admins with the reason, the rest stored, 200; unknown
channel: 404; a retry: 200, stored once; the database out of reach: 503, so the provider
retries later."""

from __future__ import annotations

import dataclasses
import functools
import hmac
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from chatdesk.chats.models import Contact, Message
from chatdesk.chats.phones import to_e164
from chatdesk.core.errors import BadInput
from chatdesk.flows.inbound import ReceiveResult, receive_batch
from chatdesk.providers.adapters import sms, whatsapp
from chatdesk.providers.adapters.whatsapp_templates import parse_template_statuses
from chatdesk.providers.base import (
    InboundMessage,
    MalformedPayload,
    StatusUpdate,
    Unreadable,
    WebhookBatch,
)
from chatdesk.providers.models import Channel, ChannelKind
from chatdesk.providers.queries import stored_secret
from chatdesk.providers.template_sync import apply_template_statuses

log = logging.getLogger(__name__)

# Seconds a provider is asked to wait before retrying while the database is out of reach.
RETRY_AFTER = 5

MAX_PROVIDER_ID = Message._meta.get_field("provider_message_id").max_length or 128
MAX_USER_ID = Contact._meta.get_field("provider_user_id").max_length or 160
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _detail(sentence: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": sentence}, status=status)


def _retry_when_database_is_away(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """A database restarting or failing over: answer 503 with Retry-After, never 2xx, so
    the provider delivers the webhook again. Each message is stored in a transaction of its
    own and a retry stores only what is missing, so whatever did commit is not doubled."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            log.warning("webhook answered 503: the database is out of reach (%s)", exc)
            response = _detail(
                "The desk cannot reach its database right now; send this webhook again later.",
                503,
            )
            response["Retry-After"] = str(RETRY_AFTER)
            return response

    return wrapper


def _channel(channel_id: int, kind: str) -> Channel | None:
    return Channel.objects.filter(pk=channel_id, kind=kind, is_active=True).first()


def _storable(batch: WebhookBatch) -> WebhookBatch:
    """The parsed batch with what the desk cannot store (an id longer than any provider
    sends, a sender that is no phone number) moved to its unreadable items, each with the
    reason: checked before anything is written."""
    messages, statuses, unreadable = [], [], list(batch.unreadable)
    for inbound in batch.messages:
        reason = _id_too_long(inbound.provider_message_id, "the message") or _no_sender(inbound)
        if reason:
            unreadable.append(_set_aside(inbound, reason))
        else:
            messages.append(inbound)
    for update in batch.statuses:
        if reason := _id_too_long(update.provider_message_id, "the status"):
            unreadable.append(_set_aside(update, reason))
        else:
            statuses.append(update)
    return WebhookBatch(messages=messages, statuses=statuses, unreadable=unreadable)


def _no_sender(inbound: InboundMessage) -> str:
    """Why the sender cannot be a contact: a number that is none, a user id too long."""
    if inbound.from_phone:
        try:
            to_e164(inbound.from_phone)
        except BadInput:
            return f"the sender {inbound.from_phone[:40]!r} is not a phone number"
    if len(inbound.from_user_id) > MAX_USER_ID:
        return f"the sender's user id is longer than {MAX_USER_ID} characters"
    if not inbound.from_phone and not inbound.from_user_id.strip():
        return "the message names no sender"
    return ""


def _id_too_long(value: str, where: str) -> str:
    if len(value) > MAX_PROVIDER_ID:
        return f"{where}'s id is longer than {MAX_PROVIDER_ID} characters, which no provider sends"
    return ""


def _set_aside(item: InboundMessage | StatusUpdate, reason: str) -> Unreadable:
    """A parsed item the desk cannot store, as JSON, with the reason."""
    payload = json.loads(json.dumps(dataclasses.asdict(item), default=str))
    return Unreadable(reason, payload, item.provider_message_id[:255])


def _summary(result: ReceiveResult) -> dict[str, int]:
    return {
        "stored": len(result.stored),
        "duplicates": result.duplicates,
        "statuses": result.statuses_applied,
        "kept": result.kept,
        "notices": result.notices,
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
@_retry_when_database_is_away
def whatsapp_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id, ChannelKind.WHATSAPP)
    if channel is None:
        return _detail("No WhatsApp channel has that id.", 404)
    if request.method == "GET":
        return _verify_subscription(request, channel)
    raw = request.body
    app_secret = stored_secret(channel, "app_secret")
    if not whatsapp.verify_signature(
        raw, request.headers.get(whatsapp.SIGNATURE_HEADER), app_secret
    ):
        return _detail("The X-Hub-Signature-256 header does not match the body.", 403)
    try:
        batch = _storable(whatsapp.parse(raw, end_keyword=channel.end_keyword))
        template_updates = parse_template_statuses(raw)
    except MalformedPayload as exc:
        return _detail(f"This is not a WhatsApp webhook payload: {exc}.", 400)
    result = receive_batch(channel=channel, batch=batch)
    updated = apply_template_statuses(channel=channel, updates=template_updates)
    return JsonResponse({**_summary(result), "templates": updated})


def _verify_subscription(request: HttpRequest, channel: Channel) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    expected = stored_secret(channel, "verify_token")
    if mode == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponse("The verify token does not match.", status=403, content_type="text/plain")


def _twilio_url(request: HttpRequest) -> str:
    """The URL Twilio signed: our public address when configured (behind a proxy the
    request's own URL differs), else the request's."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + request.get_full_path()
    return request.build_absolute_uri()


def _signed_sms_request(
    request: HttpRequest, channel_id: int
) -> tuple[Channel, dict[str, str]] | HttpResponse:
    """The SMS channel and the request's form fields, once the signature is checked; or
    the answer to give (404 unknown channel, 403 bad signature)."""
    channel = _channel(channel_id, ChannelKind.SMS)
    if channel is None:
        return _detail("No SMS channel has that id.", 404)
    form = {key: request.POST.get(key, "") for key in request.POST}
    auth_token = stored_secret(channel, "auth_token")
    if not sms.verify_signature(
        _twilio_url(request), form, request.headers.get(sms.SIGNATURE_HEADER), auth_token
    ):
        return _detail("The X-Twilio-Signature header does not match the request.", 403)
    return channel, form


@csrf_exempt
@require_http_methods(["POST"])
@_retry_when_database_is_away
def sms_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    checked = _signed_sms_request(request, channel_id)
    if isinstance(checked, HttpResponse):
        return checked
    channel, form = checked
    try:
        batch = _storable(sms.parse_inbound(form, end_keyword=channel.end_keyword))
    except MalformedPayload as exc:
        return _detail(f"This is not an SMS webhook: {exc}.", 400)
    receive_batch(channel=channel, batch=batch)
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")


@csrf_exempt
@require_http_methods(["POST"])
@_retry_when_database_is_away
def sms_status_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    checked = _signed_sms_request(request, channel_id)
    if isinstance(checked, HttpResponse):
        return checked
    channel, form = checked
    try:
        batch = _storable(sms.parse_status(form, reference=request.GET.get("ref", "")))
    except MalformedPayload as exc:
        return _detail(f"This is not an SMS status callback: {exc}.", 400)
    result = receive_batch(channel=channel, batch=batch)
    return JsonResponse(_summary(result))
