"""Twilio-compatible SMS: X-Twilio-Signature, inbound and status form fields, sending."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from chatdesk.core import clock
from chatdesk.providers import keywords
from chatdesk.providers.base import (
    ConnectionFailed,
    InboundMessage,
    MalformedPayload,
    Outbound,
    SendError,
    SendResult,
    StatusUpdate,
    WebhookBatch,
    get,
    post,
    retry_after,
    storable,
)

DEFAULT_API_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"https": 443, "http": 80}

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
OPTED_OUT_ERROR = "21610"

# Twilio's statuses mapped to ours; the intermediate ones move nothing forward.
STATUS_MAP = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
# Statuses in Twilio's Message status enum that move none of ours: those of inbound
# messages, and a partial delivery, which is neither delivered nor failed.
IGNORED_STATUSES = frozenset({"receiving", "received", "partially_delivered"})


def signature_for(url: str, form: dict[str, str], auth_token: str) -> str:
    """Twilio's scheme: HMAC-SHA1 over the full URL, then each POST field sorted by name,
    written as name followed by value, base64-encoded."""
    data = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the port dropped or the scheme's default port added:
    Twilio may sign either form, so its own helper libraries accept both."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    try:
        port = parts.port
    except ValueError:
        return [url]
    if port is not None:
        other_host = hostport.removesuffix(f":{port}")
    elif parts.scheme in DEFAULT_PORTS:
        other_host = f"{hostport}:{DEFAULT_PORTS[parts.scheme]}"
    else:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=f"{userinfo}{at}{other_host}"))]


def verify_signature(url: str, form: dict[str, str], header: str | None, auth_token: str) -> bool:
    if not header or not auth_token:
        return False
    given = header.strip().encode()
    # Every candidate is compared, so the time taken does not say which one matched.
    matches = [
        hmac.compare_digest(given, signature_for(candidate, form, auth_token).encode())
        for candidate in _url_variants(url)
    ]
    return any(matches)


def keyword(text: str) -> str:
    return keywords.keyword(text)


MAX_MEDIA = 10  # Twilio delivers at most ten media items with one message


def _content_type_of(mime: str) -> str:
    """Our content type for an MMS attachment, from Twilio's ``MediaContentType{N}``."""
    kind = mime.split("/", 1)[0].strip().lower()
    return kind if kind in {"image", "audio", "video"} else "document"


# Twilio's older names for a message's id and status, still sent beside (or, by some
# accounts and proxies, instead of) the current ones.
SID_FIELDS = ("MessageSid", "SmsMessageSid", "SmsSid")
STATUS_FIELDS = ("MessageStatus", "SmsStatus")


def _first_of(form: dict[str, str], names: tuple[str, ...]) -> str:
    return next((form[name] for name in names if form.get(name)), "")


def _missing(form: dict[str, str], *required: tuple[str, ...]) -> None:
    absent = [
        names[0] + (f" (or {', '.join(names[1:])})" if names[1:] else "")
        for names in required
        if not _first_of(form, names)
    ]
    if absent:
        raise MalformedPayload("missing form field " + ", ".join(absent))


def parse_inbound(form: dict[str, str], *, end_keyword: str = "") -> WebhookBatch:
    """The inbound SMS or MMS, its opt-out, opt-in and end keywords marked."""
    form = {key: storable(value) for key, value in form.items()}
    _missing(form, SID_FIELDS, ("From",))
    declared = (form.get("NumMedia") or "0").strip()
    count = min(int(declared), MAX_MEDIA) if declared.isdigit() else 0
    items = [
        {
            "url": form[f"MediaUrl{i}"],
            "content_type": form.get(f"MediaContentType{i}", ""),
        }
        for i in range(count)
        if form.get(f"MediaUrl{i}")
    ]
    media: dict[str, Any] = {"items": items} if items else {}
    body = form.get("Body", "")
    n = len(items)
    text = body if body or not n else f"[{n} attachment{'s' if n > 1 else ''}]"
    message = InboundMessage(
        provider_message_id=_first_of(form, SID_FIELDS),
        from_phone=form["From"],
        # Twilio's webhook carries no timestamp: the moment it reaches us stands in.
        timestamp=clock.now(),
        content_type=_content_type_of(items[0]["content_type"]) if items else "text",
        text=text,
        media=media,
    )
    marked = keywords.mark(
        message,
        end_keyword=end_keyword,
        opt_out_words=OPT_OUT_WORDS,
        opt_in_words=OPT_IN_WORDS,
    )
    return WebhookBatch(messages=[marked])


def parse_status(form: dict[str, str], *, reference: str = "") -> WebhookBatch:
    form = {key: storable(value) for key, value in form.items()}
    _missing(form, SID_FIELDS, STATUS_FIELDS)
    given = _first_of(form, STATUS_FIELDS)
    raw = given.strip().lower()
    if raw in IGNORED_STATUSES:
        return WebhookBatch()  # documented, but says nothing about a message we sent
    if raw not in STATUS_MAP:
        raise MalformedPayload(f"unknown MessageStatus {given!r}")
    status = STATUS_MAP[raw]
    code = form.get("ErrorCode", "") or ""
    reason = ""
    if status == "failed":
        reason = form.get("ErrorMessage") or (
            "The contact has opted out (STOP)."
            if code == OPTED_OUT_ERROR
            else f"The carrier did not deliver the message ({raw}"
            + (f", error {code}" if code else "")
            + ")."
        )
    return WebhookBatch(
        statuses=[
            StatusUpdate(
                provider_message_id=_first_of(form, SID_FIELDS),
                status=status,
                timestamp=clock.now(),
                error_code=code,
                error_reason=reason,
                reference=reference,
            )
        ]
    )


@dataclass(frozen=True)
class SmsConfig:
    account_sid: str
    auth_token: str
    from_number: str
    api_url: str = DEFAULT_API_URL


def send(client: httpx.Client, config: SmsConfig, outbound: Outbound) -> SendResult:
    url = f"{config.api_url.rstrip('/')}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
    form = {"To": outbound.to_phone, "From": config.from_number, "Body": outbound.text}
    if outbound.status_callback_url:
        form["StatusCallback"] = outbound.status_callback_url
    response = post(
        client, "the SMS provider", url, data=form, auth=(config.account_sid, config.auth_token)
    )
    if response.status_code < 300:
        if (sid := _sid(response)) is None:
            raise SendError(
                "The SMS provider accepted the message but returned no id.", retryable=False
            )
        return SendResult(provider_message_id=sid)
    code, reason = _error_of(response)
    if response.status_code == 429 or response.status_code >= 500:
        # 429 (Twilio's error 20429): the account or number is over its sending rate.
        raise SendError(
            reason,
            retryable=True,
            code=code,
            retry_after=retry_after(response),
            throttled=response.status_code == 429,
        )
    raise SendError(reason, retryable=False, code=code)


def _sid(response: httpx.Response) -> str | None:
    """The ``sid`` of the Message resource Twilio created, if it is there."""
    try:
        payload = response.json()
    except ValueError:
        return None
    sid = payload.get("sid") if isinstance(payload, dict) else None
    return sid if isinstance(sid, str) and sid else None


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """Twilio's ``{"code", "message", "more_info", "status"}``, or what there is."""
    try:
        payload = response.json()
    except ValueError:
        return "", response.text[:200].strip() or f"HTTP {response.status_code}"
    error = payload if isinstance(payload, dict) else {}
    code = str(error.get("code", "") or "")
    reason = str(error.get("message") or f"HTTP {response.status_code}")
    return code, reason


def check_connection(client: httpx.Client, config: SmsConfig) -> str:
    """Twilio's cheapest authenticated read: the account resource, ``GET
    {api_url}/2010-04-01/Accounts/{account_sid}.json`` with basic auth. The account as the
    provider names it, or ConnectionFailed with its reason in our words."""
    url = f"{config.api_url.rstrip('/')}/2010-04-01/Accounts/{config.account_sid}.json"
    response = get(client, "the SMS provider", url, auth=(config.account_sid, config.auth_token))
    if response.status_code < 300:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ConnectionFailed(f"{url} answered, but not as Twilio's API does.")
        name = str(payload.get("friendly_name") or config.account_sid)
        status = str(payload.get("status") or "")
        if status and status != "active":
            raise ConnectionFailed(
                f"The SMS provider's account {name} is {status}, so it sends nothing."
            )
        return f"The SMS provider knows this account: {name}" + (f" ({status})." if status else ".")
    code, reason = _error_of(response)
    if response.status_code == 401:
        raise ConnectionFailed(
            f"The SMS provider refused the account SID and auth token ({code} {reason}). "
            "Check both in the provider's console."
        )
    if response.status_code == 404:
        raise ConnectionFailed(
            f"The SMS provider knows no account {config.account_sid} ({reason}). Check the "
            "account SID and the API URL."
        )
    raise ConnectionFailed(f"The SMS provider answered HTTP {response.status_code}: {reason}")
