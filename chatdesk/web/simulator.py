"""The customer simulator's phone: who the customer is, what they send to the desk, and what
their phone does with the desk's messages (receives them, then they are read).

A message typed here reaches the desk exactly as a provider's webhook delivers one (through
``receive_message``), and delivery and read receipts go back through ``apply_status``, so
everything the desk does with a real customer happens with this one too.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from dataclasses import dataclass

from django.utils import timezone

from chatdesk.chats import queries
from chatdesk.chats.models import DeliveryStatus, Direction, Message
from chatdesk.chats.phones import to_e164
from chatdesk.chats.services.inbound import apply_status
from chatdesk.chats.services.outbound import MAX_TEXT
from chatdesk.core import clock
from chatdesk.core.errors import BadInput
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.adapters import sandbox
from chatdesk.providers.base import StatusUpdate
from chatdesk.providers.models import Channel

MAX_NAME = 200
PROVIDER_ID_PREFIX = "sim-"
NEW_CUSTOMER_PREFIX = "+2782"  # South African mobile numbers: +27 82 xxx xxxx
_SEND_KEY = re.compile(r"[0-9a-f]{32}")
# Bumped when the conversation's markup changes, so a page open across a deploy redraws.
_SCREEN_VERSION = "1"


class InvalidCustomer(BadInput):
    """The number or the name is not usable; ``field`` says which."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


@dataclass(frozen=True)
class Customer:
    """Who the person at the simulator plays: an E.164 number and a name (may be empty)."""

    phone: str
    name: str


def check_customer(*, phone: str, name: str) -> Customer:
    """The customer as typed, with the number normalised to E.164; else InvalidCustomer."""
    if not phone.strip():
        raise InvalidCustomer("phone", "Enter the phone number you are writing from.")
    try:
        e164 = to_e164(phone)
    except BadInput as error:
        raise InvalidCustomer(
            "phone",
            f"{error.detail} Write it in international form with the country code, "
            "like +27821234567.",
        ) from error
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise InvalidCustomer(
            "name", f"A name can be at most {MAX_NAME} characters; this one has {len(name)}."
        )
    return Customer(phone=e164, name=name)


def new_customer_phone() -> str:
    """A random South African mobile number, for a customer the desk has never seen."""
    digits = "".join(random.choices("0123456789", k=7))  # noqa: S311 - not a secret
    return NEW_CUSTOMER_PREFIX + digits


def new_send_key() -> str:
    """The id of one message to be typed; sending the same form twice stores it once."""
    return uuid.uuid4().hex


def is_send_key(key: str) -> bool:
    return bool(_SEND_KEY.fullmatch(key))


def send_as_customer(
    *, channel: Channel, customer: Customer, text: str, key: str = ""
) -> Message | None:
    """Store the customer's message as the sandbox provider's webhook would; None when this
    form (``key``) was already sent. Empty or over-long text is refused: nothing is stored."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise BadInput("Type a message before sending.")
    if len(text) > MAX_TEXT:
        raise BadInput(f"A message can be at most {MAX_TEXT} characters; this one has {len(text)}.")
    if not is_send_key(key):
        key = new_send_key()
    return receive_message(
        channel=channel,
        inbound=sandbox.parse(
            provider_message_id=PROVIDER_ID_PREFIX + key,
            from_phone=customer.phone,
            timestamp=clock.now(),
            text=text,
            contact_name=customer.name,
            end_keyword=channel.end_keyword,
        ),
    )


@dataclass(frozen=True)
class PhoneScreen:
    """The conversation as the phone shows it, and a signature that changes with it."""

    messages: list[Message]
    signature: str


def look_at_phone(*, channel: Channel, phone: str, since: str = "") -> PhoneScreen | None:
    """What the customer's phone shows on ``channel``: the last messages with this desk,
    oldest first. None when nothing changed since the screen signed ``since``. Only reads:
    receipts go back from ``receive_on_phone``."""
    states = queries.phone_message_states(channel, phone)
    return _screen(channel, phone, states, {}, since)


def receive_on_phone(
    *, channel: Channel, phone: str, looking: bool = True, since: str = ""
) -> PhoneScreen | None:
    """The phone acts as a real one, then shows its screen as ``look_at_phone`` does: a
    desk message the provider sent is delivered when the phone gets it, and read on a
    later look while the screen is in view (``looking``); both go back to the desk as
    status updates, as a provider's receipts would."""
    states = queries.phone_message_states(channel, phone)
    moved = _receive_and_read(channel, states, looking=looking)
    return _screen(channel, phone, states, moved, since)


def _screen(
    channel: Channel,
    phone: str,
    states: list[queries.PhoneMessageState],
    moved: dict[int, str],
    since: str,
) -> PhoneScreen | None:
    signature = _signature(channel, phone, states, moved)
    if since and since == signature:
        return None
    return PhoneScreen(messages=queries.phone_messages(channel, phone), signature=signature)


def _receive_and_read(
    channel: Channel, states: list[queries.PhoneMessageState], *, looking: bool
) -> dict[int, str]:
    """Move the desk's messages on: sent → delivered now, delivered → read when looked at.
    Returns the new status of each message that moved."""
    moved: dict[int, str] = {}
    now = clock.now()
    for state in states:
        if state.direction != Direction.OUT or not state.provider_message_id:
            continue
        if state.status == DeliveryStatus.SENT:
            target = DeliveryStatus.DELIVERED
        elif state.status == DeliveryStatus.DELIVERED and looking:
            target = DeliveryStatus.READ
        else:
            continue
        update = StatusUpdate(
            provider_message_id=state.provider_message_id, status=target, timestamp=now
        )
        if apply_status(channel=channel, update=update):
            moved[state.id] = target
    return moved


def _signature(
    channel: Channel,
    phone: str,
    states: list[queries.PhoneMessageState],
    moved: dict[int, str],
) -> str:
    # The day is in it because the screen labels today's messages "Today".
    parts = [_SCREEN_VERSION, timezone.localdate(clock.now()).isoformat(), str(channel.pk), phone]
    parts.extend(f"{s.id}:{moved.get(s.id, s.status or '')}" for s in states)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]
