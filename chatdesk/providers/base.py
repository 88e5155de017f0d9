"""The narrow interface every provider adapter implements, and the values it exchanges.

An adapter verifies a webhook's signature, parses inbound messages and delivery statuses
from the provider's documented payload, sends one message, and maps the provider's errors
to ours. It knows nothing of chats, agents or the database.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx


class MalformedPayload(ValueError):
    """The body is not what the provider documents; the sentence says what is wrong."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """A provider's text as the database can keep it: NUL characters (which PostgreSQL
    refuses) dropped, and lone surrogates (valid JSON escapes, but not UTF-8) replaced,
    so a customer's message is never lost to one stray character."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _storable_tree(node: Any) -> Any:
    """Every string of a decoded JSON document, keys included, made storable."""
    stack: list[Any] = []
    root = [node]
    stack.append(root)
    while stack:
        parent = stack.pop()
        items = list(parent.items()) if isinstance(parent, dict) else list(enumerate(parent))
        if isinstance(parent, dict):
            parent.clear()
        for key, value in items:
            if isinstance(value, str):
                value = storable(value)
            elif isinstance(value, dict | list):
                stack.append(value)
            parent[storable(key) if isinstance(key, str) else key] = value
    return root[0]


def _no_constant(name: str) -> Any:
    raise MalformedPayload(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedPayload(f"the number {text[:20]} is too large")
    return value


def load_json(raw_body: bytes) -> Any:
    """The provider's JSON body, strict (no NaN or Infinity, which no store accepts) and
    with every string storable; MalformedPayload when it is not JSON."""
    try:
        return _storable_tree(
            json.loads(raw_body, parse_constant=_no_constant, parse_float=_finite)
        )
    except RecursionError as exc:
        raise MalformedPayload("the body is nested too deeply") from exc
    except MalformedPayload:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload("the body is not JSON") from exc


@dataclass(frozen=True)
class IdentityChange:
    """The provider's notice that a user's phone number (``field="phone"``) or their user
    id (``field="provider_user_id"``) changed from ``old`` to ``new``."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str
    from_phone: str  # as the provider wrote it; "" when it withholds the number
    timestamp: datetime
    content_type: str  # one of chats.models.ContentType
    text: str  # the text, or a readable summary of media, places, contacts…
    contact_name: str = ""
    media: dict[str, Any] = field(default_factory=dict)
    # Keywords, marked by the adapter as it parses (providers.keywords): the SMS opt-out
    # or opt-in word (in capitals) when the text is one, and the channel's end keyword.
    opt_out_word: str = ""
    opt_in_word: str = ""
    ends_chat: bool = False
    # The provider's id for the sender (WhatsApp's business-scoped user id, BSUID), and
    # their username, when it sends them.
    from_user_id: str = ""
    username: str = ""
    # A notice from the provider (a changed number, say), not the customer writing: it
    # starts no chat and does not move the contact window.
    is_system: bool = False
    identity_change: IdentityChange | None = None
    # The customer changed (``edits``) or took back (``revokes``) the message with this
    # provider id: not a new message, and the window does not move.
    edits: str = ""
    revokes: str = ""
    # Sent by the business from the provider's app on its own phone (WhatsApp's message
    # echoes): an outbound message of the chat; ``from_*`` then name the customer.
    from_business_phone: bool = False


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str  # sent | delivered | read | failed
    timestamp: datetime | None = None
    error_code: str = ""
    error_reason: str = ""
    # Our own message id, echoed back by the provider (WhatsApp's biz_opaque_callback_data,
    # the SMS status callback URL): it finds a message whose send answer was lost.
    reference: str = ""


@dataclass(frozen=True)
class Unreadable:
    """One item of a webhook (a message, a status) the desk cannot read, as the provider
    sent it, and why: kept for the admins while the rest of the webhook is stored."""

    reason: str
    payload: Any
    provider_message_id: str = ""


def item_id(item: Any) -> str:
    """An unreadable item's own id, when it has a readable one."""
    value = item.get("id") if isinstance(item, dict) else None
    return value[:255] if isinstance(value, str) else ""


@dataclass(frozen=True)
class WebhookBatch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass(frozen=True)
class OutboundTemplate:
    name: str
    language: str
    variables: list[str]


@dataclass(frozen=True)
class Outbound:
    to_phone: str  # E.164; "" when only the provider's user id is known
    text: str = ""
    template: OutboundTemplate | None = None
    status_callback_url: str | None = None
    reference: str = ""
    to_user_id: str = ""  # the provider's id for the recipient (WhatsApp's BSUID)


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class SendError(Exception):
    """A send failed. ``retryable`` says whether trying again later may succeed;
    ``throttled`` that the provider says the whole number is sending too fast (not only
    to this recipient), so every send through the channel should wait."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        code: str = "",
        retry_after: float | None = None,
        throttled: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after
        self.throttled = throttled


class Provider(Protocol):
    """What the desk asks of a provider adapter bound to one channel."""

    def send(self, client: httpx.Client, outbound: Outbound) -> SendResult: ...


def reference_for(message_id: int) -> str:
    """Our id for a message, as sent along to the provider and echoed in its statuses."""
    return f"chatdesk-{message_id}"


def message_id_from_reference(reference: str) -> int | None:
    prefix, _, number = reference.partition("-")
    # ASCII digits only ("²" is a digit to str.isdigit but no number), and no more than
    # a database id can hold.
    if prefix != "chatdesk" or not (number.isascii() and number.isdigit()) or len(number) > 18:
        return None
    return int(number)


def post(client: httpx.Client, provider: str, url: str, **kwargs: Any) -> httpx.Response:
    """POST to a provider; a timeout or a connection failure is a retryable SendError."""
    try:
        return client.post(url, **kwargs)
    except httpx.TimeoutException as exc:
        sentence = f"{provider} did not answer in time."
        raise SendError(sentence[0].upper() + sentence[1:], retryable=True) from exc
    except httpx.TransportError as exc:
        raise SendError(
            f"Could not reach {provider}: {exc.__class__.__name__}.", retryable=True
        ) from exc


class ConnectionFailed(Exception):
    """A connection test failed; ``reason`` says why in our words, with the provider's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def get(client: httpx.Client, provider: str, url: str, **kwargs: Any) -> httpx.Response:
    """GET from a provider for a connection test; no answer is a ConnectionFailed."""
    try:
        return client.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ConnectionFailed(f"{provider} did not answer in time at {url}.") from exc
    except httpx.TransportError as exc:
        raise ConnectionFailed(
            f"Could not reach {provider} at {url} ({exc.__class__.__name__}): check the URL."
        ) from exc


def retry_after(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds (the date form is ignored), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
