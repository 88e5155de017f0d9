"""WhatsApp Business Cloud API (Meta): webhook signature, payload parsing, sending.

A user who chose a WhatsApp username may withhold their number: Meta's messages webhook
then carries their business-scoped user id (BSUID) as ``from_user_id`` (and
``contacts[].user_id``, with ``profile.username``) and no ``from`` / ``wa_id``, and a
reply goes to them with ``recipient`` instead of ``to`` (Meta's "Business-scoped user
IDs" page of the WhatsApp Business Platform documentation). The ``system`` messages
``user_changed_number`` (``system.wa_id``, the new number) and ``user_changed_user_id``
(``system.user_id`` and ``system.previous_user_id``, no ``from``) change who a contact is.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from chatdesk.providers import keywords
from chatdesk.providers.base import (
    ConnectionFailed,
    IdentityChange,
    InboundMessage,
    MalformedPayload,
    Outbound,
    SendError,
    SendResult,
    StatusUpdate,
    Unreadable,
    WebhookBatch,
    get,
    item_id,
    load_json,
    post,
    retry_after,
)

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"

# Meta's error codes that matter to the desk (see the research notes).
RE_ENGAGEMENT_REQUIRED = "131047"
THROTTLED = {"130429", "131056", "4", "80007"}
# Of those, the ones about the number's (or the app's) throughput as a whole; 131056 is
# about one recipient only.
NUMBER_THROTTLED = {"130429", "4", "80007"}
TEMPLATE_MISSING = "132001"
TOKEN_EXPIRED = "190"

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")


def signature_for(raw_body: bytes, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not app_secret:
        return False
    return hmac.compare_digest(
        header.strip().encode(), signature_for(raw_body, app_secret).encode()
    )


def _timestamp(value: Any) -> datetime:
    """Meta's unix seconds (a string of digits, or a whole number) as an aware UTC time."""
    digits = isinstance(value, str) and value.isascii() and value.isdigit()
    whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if not (digits or whole):
        raise MalformedPayload(f"timestamp {value!r} is not unix seconds")
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedPayload(f"timestamp {value!r} is not unix seconds") from exc


def _need(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise MalformedPayload(f"{where} has no {key!r}")
    return obj[key]


def _need_text(obj: Any, key: str, where: str) -> str:
    """A required field that Meta documents as a string (ids, numbers, types)."""
    value = _need(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedPayload(f"{where}'s {key!r} must be a non-empty string")
    return str(value)


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    """An optional list: absent or null is empty, anything else but a list is malformed."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}'s {key!r} must be a list")
    return value


def _dict(value: Any) -> dict[str, Any]:
    """An optional nested object; anything else counts as absent."""
    return value if isinstance(value, dict) else {}


def _first_error(errors: Any) -> dict[str, Any]:
    """The first of Meta's ``errors`` objects, or an empty one."""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return {}


def _summary(kind: str, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A readable text for the transcript, and the media details worth keeping."""
    body = message.get(kind)
    if kind == "text":
        text = _need(body, "body", "a text message")
        if not isinstance(text, str):
            raise MalformedPayload("a text message's 'body' must be a string")
        return text, {}
    if kind in MEDIA_TYPES:
        if not isinstance(body, dict) or not body.get("id"):
            raise MalformedPayload(f"the {kind} message has no media id")
        media = {k: body[k] for k in ("id", "mime_type", "sha256", "filename") if k in body}
        label = {
            "image": "Photo",
            "audio": "Voice note" if body.get("voice") is True else "Audio",
            "video": "Video",
            "document": "Document",
            "sticker": "Sticker",
        }[kind]
        detail = body.get("caption") or body.get("filename") or ""
        return (f"[{label}] {detail}".strip(), media)
    if kind == "location":
        if not isinstance(body, dict):
            raise MalformedPayload("the location message has no location")
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        where = f"{body.get('latitude')}, {body.get('longitude')}"
        return (
            f"[Location] {place} ({where})" if place else f"[Location] {where}",
            {k: body[k] for k in ("latitude", "longitude", "name", "address") if k in body},
        )
    if kind == "contacts":
        cards = body if isinstance(body, list) else []
        names = []
        for card in cards:
            card = _dict(card)
            name = _dict(card.get("name")).get("formatted_name") or ""
            phones = card.get("phones")
            phone = _dict(phones[0]).get("phone", "") if isinstance(phones, list) and phones else ""
            names.append(" ".join(str(x) for x in (name, phone) if x))
        return ("[Contact] " + "; ".join(n for n in names if n)).strip(), {"contacts": cards}
    if kind == "interactive":
        if not isinstance(body, dict):
            raise MalformedPayload("the interactive message has no reply")
        if body.get("type") == "nfm_reply":
            return _flow_reply(_dict(body.get("nfm_reply")))
        reply = _dict(body.get("button_reply") or body.get("list_reply"))
        title = reply.get("title") or reply.get("body") or ""
        return str(title), {"reply_id": reply.get("id", ""), "type": body.get("type", "")}
    if kind == "order":
        return _order(_dict(body))
    if kind in ("edit", "revoke"):
        if not isinstance(body, dict) or not _text_or_empty(body.get("original_message_id")):
            raise MalformedPayload(f"the {kind} message has no 'original_message_id'")
        if kind == "revoke":
            return "[Message deleted]", {}
        edited = _dict(body.get("message"))
        edited_kind = _text_or_empty(edited.get("type")) or "text"
        if edited_kind == "edit" or edited_kind == "revoke":
            raise MalformedPayload("an edit's 'message' cannot be another edit")
        return _summary(edited_kind, edited)
    if kind == "button":
        if not isinstance(body, dict):
            raise MalformedPayload("the button message has no button")
        return str(body.get("text", "")), {"payload": body.get("payload", "")}
    if kind == "system":
        if not isinstance(body, dict):
            raise MalformedPayload("the system message has no 'system'")
        text = body.get("body") if isinstance(body.get("body"), str) else ""
        return (text or "[System message]", {"system_type": str(body.get("type") or "")})
    if kind == "reaction":
        if not isinstance(body, dict):
            raise MalformedPayload("the reaction message has no reaction")
        emoji = body.get("emoji") or ""
        text = f"[Reaction] {emoji}" if emoji else "[Reaction removed]"
        return text, {"message_id": body.get("message_id", ""), "emoji": emoji}
    errors = message.get("errors")
    errors = errors if isinstance(errors, list) else []
    first = _first_error(errors)
    reason = str(first.get("title") or "")
    details = _dict(first.get("error_data")).get("details")
    if isinstance(details, str) and details and details != reason:
        reason = f"{reason}: {details}" if reason else details
    return (f"[Unsupported message] {reason}".strip(), {"errors": errors})


def _flow_reply(reply: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A WhatsApp Flow's answers (``nfm_reply``): ``response_json`` is a JSON string."""
    answers: Any = {}
    raw = reply.get("response_json")
    if isinstance(raw, str):
        try:
            answers = load_json(raw.encode())
        except MalformedPayload:
            answers = {}
    fields = (
        {k: v for k, v in answers.items() if k != "flow_token"} if isinstance(answers, dict) else {}
    )
    shown = "; ".join(f"{k}: {v}" for k, v in list(fields.items())[:20])
    title = _text_or_empty(reply.get("body")) or "Form sent"
    return (
        f"[Form] {title}" + (f" ({shown})" if shown else ""),
        {"type": "nfm_reply", "flow_name": _text_or_empty(reply.get("name")), "answers": fields},
    )


def _order(order: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A cart from the catalogue: each item's quantity, retailer id and price."""
    items = [i for i in (order.get("product_items") or []) if isinstance(i, dict)]
    lines = []
    for item in items[:50]:
        quantity = item.get("quantity", "?")
        product = item.get("product_retailer_id", "?")
        price, currency = item.get("item_price"), item.get("currency") or ""
        priced = f" at {price} {currency}".rstrip() if price is not None else ""
        lines.append(f"{quantity} x {product}{priced}")
    note = _text_or_empty(order.get("text"))
    text = "[Order] " + ("; ".join(lines) or "no items") + (f". {note}" if note else "")
    kept = {
        "catalog_id": _text_or_empty(order.get("catalog_id")),
        "items": [
            {k: item.get(k) for k in ("product_retailer_id", "quantity", "item_price", "currency")}
            for item in items
        ],
    }
    return text, {"order": kept}


def _extras(message: dict[str, Any]) -> dict[str, Any]:
    """What Meta adds to any message: the message it answers (``context.id``), the
    forwarded marks, and the ad the customer came from (``referral``)."""
    extras: dict[str, Any] = {}
    context = _dict(message.get("context"))
    if quoted := _text_or_empty(context.get("id")):
        extras["reply_to"] = quoted
    if context.get("frequently_forwarded") is True:
        extras["forwarded"] = "frequently"
    elif context.get("forwarded") is True:
        extras["forwarded"] = "once"
    referral = _dict(message.get("referral"))
    if referral:
        keys = ("source_url", "source_type", "source_id", "headline", "body", "ctwa_clid")
        extras["referral"] = {k: referral[k] for k in keys if isinstance(referral.get(k), str)}
    return extras


KNOWN_TYPES = frozenset(
    {"text", *MEDIA_TYPES, "location", "contacts", "interactive", "button", "reaction", "system"}
    | {"order"}
)
# Not the customer writing anew: they change or take back a message already sent.
AMENDING_TYPES = frozenset({"edit", "revoke"})


@dataclass(frozen=True)
class Profile:
    """What ``contacts[]`` says of a sender: their name, username and ids."""

    name: str = ""
    username: str = ""
    wa_id: str = ""
    user_id: str = ""


def _profiles(value: dict[str, Any]) -> dict[str, Profile]:
    """The senders of a change's messages, by ``wa_id`` and by ``user_id``."""
    found: dict[str, Profile] = {}
    for contact in _list(value, "contacts", "a change's value"):
        if not isinstance(contact, dict):
            continue
        profile = _dict(contact.get("profile"))
        entry = Profile(
            name=_text_or_empty(profile.get("name")),
            username=_text_or_empty(profile.get("username")).lstrip("@"),
            wa_id=_text_or_empty(contact.get("wa_id")),
            user_id=_text_or_empty(contact.get("user_id")),
        )
        for key in (entry.wa_id, entry.user_id):
            if key:
                found[key] = entry
    return found


def _text_or_empty(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str:
    """A field Meta may leave out (a withheld number); when present, a non-empty string."""
    if obj.get(key) is None:
        return ""
    return _need_text(obj, key, where)


def _identity_change(kind: str, message: dict[str, Any], sender: str) -> IdentityChange | None:
    system = _dict(message.get("system"))
    change = system.get("type")
    if kind != "system":
        return None
    if change == "user_changed_number":
        new = _optional_text(system, "wa_id", "a number-change message's system")
        return IdentityChange("phone", sender, new) if sender and new else None
    if change == "user_changed_user_id":
        old = _optional_text(system, "previous_user_id", "a user-id-change message's system")
        new = _optional_text(system, "user_id", "a user-id-change message's system")
        return IdentityChange("provider_user_id", old, new) if old and new else None
    return None


def _inbound(message: Any, profiles: dict[str, Profile]) -> InboundMessage:
    if not isinstance(message, dict):
        raise MalformedPayload("a message must be an object")
    sender = _optional_text(message, "from", "a message")
    user_id = _optional_text(message, "from_user_id", "a message")
    kind = _need_text(message, "type", "a message")
    message_id = _need_text(message, "id", "a message")
    timestamp = _timestamp(_need(message, "timestamp", "a message"))
    text, media = _summary(kind, message)
    change = _identity_change(kind, message, sender)
    if change is not None and change.field == "provider_user_id" and not user_id:
        user_id = change.new  # Meta sends this one without a sender: it is the new id
    if not sender and not user_id:
        raise MalformedPayload("a message has no 'from' and no 'from_user_id'")
    profile = profiles.get(sender) or profiles.get(user_id) or Profile()
    content_type = kind if kind in KNOWN_TYPES else "unsupported"
    amends = ""
    if kind in AMENDING_TYPES:
        amends = _dict(message.get(kind))["original_message_id"]
        edited_kind = _text_or_empty(_dict(_dict(message.get(kind)).get("message")).get("type"))
        content_type = edited_kind if edited_kind in KNOWN_TYPES else "text"
    return InboundMessage(
        provider_message_id=message_id,
        from_phone=sender,
        timestamp=timestamp,
        content_type=content_type,
        text=text,
        contact_name=profile.name,
        media={**media, **_extras(message)},
        from_user_id=user_id or profile.user_id,
        username=profile.username,
        is_system=kind == "system",
        identity_change=change,
        edits=amends if kind == "edit" else "",
        revokes=amends if kind == "revoke" else "",
    )


def _echo(message: Any, profiles: dict[str, Profile]) -> InboundMessage:
    """A message the business sent from the WhatsApp Business app on its phone
    (``smb_message_echoes``): ``to`` / ``to_user_id`` name the customer."""
    if not isinstance(message, dict):
        raise MalformedPayload("a message echo must be an object")
    to = _optional_text(message, "to", "a message echo")
    to_user_id = _optional_text(message, "to_user_id", "a message echo")
    kind = _need_text(message, "type", "a message echo")
    message_id = _need_text(message, "id", "a message echo")
    timestamp = _timestamp(_need(message, "timestamp", "a message echo"))
    if not to and not to_user_id:
        raise MalformedPayload("a message echo has no 'to' and no 'to_user_id'")
    text, media = _summary(kind, message)
    profile = profiles.get(to) or profiles.get(to_user_id) or Profile()
    return InboundMessage(
        provider_message_id=message_id,
        from_phone=to,
        timestamp=timestamp,
        content_type=kind if kind in KNOWN_TYPES else "unsupported",
        text=text,
        media=media,
        from_user_id=to_user_id or profile.user_id,
        from_business_phone=True,
    )


def _status(status: Any) -> StatusUpdate | None:
    if not isinstance(status, dict):
        raise MalformedPayload("a status must be an object")
    state = _need_text(status, "status", "a status")
    message_id = _need_text(status, "id", "a status")
    if state not in STATUSES:
        return None  # e.g. "deleted", "warning": nothing for the desk to show
    first = _first_error(status.get("errors"))
    details = _dict(first.get("error_data")).get("details") or ""
    reason = first.get("title") or first.get("message") or ""
    if details and details != reason:
        reason = f"{reason}: {details}" if reason else details
    return StatusUpdate(
        provider_message_id=message_id,
        status=state,
        timestamp=_timestamp(status["timestamp"]) if "timestamp" in status else None,
        error_code=str(first.get("code", "")) if first else "",
        error_reason=str(reason),
        reference=str(status.get("biz_opaque_callback_data") or ""),
    )


def parse(raw_body: bytes, *, end_keyword: str = "") -> WebhookBatch:
    """The messages and statuses of a webhook, each message's end keyword marked.

    A body that is not the documented envelope (``object``, ``entry``, ``changes``,
    ``value``) is refused whole (MalformedPayload). A message or a status inside it that
    cannot be read is set aside as Unreadable, with the reason, and the rest is read."""
    payload = load_json(raw_body)
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise MalformedPayload("'object' must be 'whatsapp_business_account'")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("'entry' must be a list")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    unreadable: list[Unreadable] = []
    for entry in entries:
        changes = _need(entry, "changes", "an entry")
        if not isinstance(changes, list):
            raise MalformedPayload("'changes' must be a list")
        for change in changes:
            value = _need(change, "value", "a change")
            if not isinstance(value, dict):
                raise MalformedPayload("a change's 'value' must be an object")
            field = change.get("field", "messages")
            if field == "smb_message_echoes":
                profiles = _profiles(value)
                for echo in _list(value, "message_echoes", "a change's value"):
                    try:
                        messages.append(_echo(echo, profiles))
                    except MalformedPayload as exc:
                        unreadable.append(Unreadable(str(exc), echo, item_id(echo)))
                continue
            if field != "messages":
                continue  # template status updates and others are handled elsewhere
            profiles = _profiles(value)
            for message in _list(value, "messages", "a change's value"):
                try:
                    inbound = _inbound(message, profiles)
                except MalformedPayload as exc:
                    unreadable.append(Unreadable(str(exc), message, item_id(message)))
                    continue
                messages.append(keywords.mark(inbound, end_keyword=end_keyword))
            for status in _list(value, "statuses", "a change's value"):
                try:
                    update = _status(status)
                except MalformedPayload as exc:
                    unreadable.append(Unreadable(str(exc), status, item_id(status)))
                    continue
                if update is not None:
                    statuses.append(update)
    return WebhookBatch(messages=messages, statuses=statuses, unreadable=unreadable)


@dataclass(frozen=True)
class WhatsAppConfig:
    phone_number_id: str
    access_token: str
    graph_api_url: str = DEFAULT_GRAPH_API_URL


def request_body(outbound: Outbound) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if outbound.to_phone:
        body["to"] = outbound.to_phone.lstrip("+")
    else:
        body["recipient"] = outbound.to_user_id  # a user known only by their BSUID
    if outbound.template is not None:
        template = outbound.template
        body["type"] = "template"
        body["template"] = {"name": template.name, "language": {"code": template.language}}
        if template.variables:
            body["template"]["components"] = [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": v} for v in template.variables],
                }
            ]
    else:
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": outbound.text}
    if outbound.reference:
        body["biz_opaque_callback_data"] = outbound.reference
    return body


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """Meta's ``{"error": {"message", "code", "error_data": {"details"}}}``, or what there is."""
    try:
        payload = response.json()
    except ValueError:
        return "", response.text[:200].strip() or f"HTTP {response.status_code}"
    error = _dict(payload.get("error") if isinstance(payload, dict) else None)
    details = _dict(error.get("error_data")).get("details") or ""
    reason = error.get("message") or error.get("title") or f"HTTP {response.status_code}"
    if details:
        reason = f"{reason}: {details}"
    return str(error.get("code", "")), str(reason)


def _message_id(response: httpx.Response) -> str | None:
    """``messages[0].id`` of Meta's answer to a send, if it is there."""
    try:
        payload = response.json()
    except ValueError:
        return None
    messages = payload.get("messages") if isinstance(payload, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    message_id = first.get("id") if isinstance(first, dict) else None
    return message_id if isinstance(message_id, str) and message_id else None


def send(client: httpx.Client, config: WhatsAppConfig, outbound: Outbound) -> SendResult:
    url = f"{config.graph_api_url.rstrip('/')}/{config.phone_number_id}/messages"
    response = post(
        client,
        "WhatsApp",
        url,
        json=request_body(outbound),
        headers={"Authorization": f"Bearer {config.access_token}"},
    )
    if response.status_code < 300:
        if (message_id := _message_id(response)) is None:
            raise SendError("WhatsApp accepted the message but returned no id.", retryable=False)
        return SendResult(provider_message_id=message_id)
    code, reason = _error_of(response)
    if response.status_code == 429 or response.status_code >= 500 or code in THROTTLED:
        raise SendError(
            reason,
            retryable=True,
            code=code,
            retry_after=retry_after(response),
            throttled=code in NUMBER_THROTTLED
            or (response.status_code == 429 and code not in THROTTLED),
        )
    raise SendError(reason, retryable=False, code=code)


def check_connection(client: httpx.Client, config: WhatsAppConfig) -> str:
    """Meta's cheapest authenticated read: the phone number object, ``GET
    {graph_api_url}/{phone_number_id}`` with the bearer token. The number as Meta shows
    it, or ConnectionFailed with Meta's reason in our words."""
    url = f"{config.graph_api_url.rstrip('/')}/{config.phone_number_id}"
    response = get(
        client,
        "WhatsApp",
        url,
        params={"fields": "display_phone_number,verified_name"},
        headers={"Authorization": f"Bearer {config.access_token}"},
    )
    if response.status_code < 300:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ConnectionFailed(f"{url} answered, but not as Meta's Graph API does.")
        number = str(payload.get("display_phone_number") or config.phone_number_id)
        name = str(payload.get("verified_name") or "")
        return f"WhatsApp knows this number: {number}" + (f" ({name})." if name else ".")
    code, reason = _error_of(response)
    if response.status_code == 401 or code == TOKEN_EXPIRED:
        raise ConnectionFailed(
            f"Meta refused the access token ({reason}). Paste a valid token from Meta's "
            "app dashboard into the access token field."
        )
    if code == "100":
        raise ConnectionFailed(
            f"Meta knows no phone number with the ID {config.phone_number_id} that this "
            f"token may use ({reason}). Check the phone number ID in WhatsApp → API Setup."
        )
    raise ConnectionFailed(f"WhatsApp answered HTTP {response.status_code}: {reason}")
