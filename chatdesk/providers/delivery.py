"""Delivering what the desk sends, through the channel's provider: claim, pacing, retry,
recovery, and the provider's error turned into our sentence.

Delivery is at most once per message: a worker claims the message with one conditional
UPDATE just before the provider call, so a task that runs twice finds nothing to claim.
Retryable failures (429, 5xx, timeouts, connection errors) back off exponentially with
jitter, honouring Retry-After, up to a bound; then the message fails with its reason.
A worker that stops during the provider call leaves the message "in flight": the
provider's status callback, which carries our reference, settles it (see
chats.services.inbound.apply_status).

Every attempt, a retry too, first takes its channel's next send slot (``pacing``), so the
channel's rate holds across all workers. The slot is taken and waited for before the
claim: a worker stopped while it waits leaves the message queued, not in flight, and the
outbox sweep sends it later.

Nothing here enqueues a task: an attempt says when the message is due again and
chatdesk.providers.tasks (whose task paths queued rows name) schedules it.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet

from chatdesk.chats.models import ContactOptOut, ContentType, DeliveryStatus, Direction, Message
from chatdesk.chats.window import CLOSED_WINDOW_REASON
from chatdesk.core import clock
from chatdesk.providers import pacing
from chatdesk.providers.adapters import sms as sms_adapter
from chatdesk.providers.base import Outbound, OutboundTemplate, SendError, reference_for
from chatdesk.providers.http import provider_client
from chatdesk.providers.models import ChannelKind
from chatdesk.providers.registry import sender_for
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEventType

log = logging.getLogger(__name__)

OPTED_OUT_REASON = (
    "The contact has opted out of messages on this number (they sent STOP); they must "
    "send START to opt back in."
)


def reason_for(code: str, reason: str) -> str:
    """Our sentence for the provider errors a person must act on."""
    if code == "131047":
        return CLOSED_WINDOW_REASON
    if code == sms_adapter.OPTED_OUT_ERROR:
        return OPTED_OUT_REASON
    return reason or "The provider could not deliver the message."


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter over the upper half, capped; a provider's
    Retry-After is a floor."""
    base = float(settings.CHATDESK_SEND_BACKOFF_BASE)
    cap = float(settings.CHATDESK_SEND_BACKOFF_CAP)
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _claimable(message_id: int) -> QuerySet[Message]:
    """The message, if it is ours to send now: queued, not handed over, not in flight,
    due."""
    return Message.objects.filter(
        pk=message_id,
        direction=Direction.OUT,
        status=DeliveryStatus.QUEUED,
        provider_message_id__isnull=True,
        in_flight_since__isnull=True,
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=clock.now()))


def _claim(message_id: int) -> bool:
    return bool(
        _claimable(message_id).update(in_flight_since=clock.now(), attempts=F("attempts") + 1)
    )


def _wait_for_slot(message_id: int, channel_id: int, rate: int) -> float | None:
    """Take the channel's next send slot and sleep until it. When the slot is too far off
    the message is put back, due when its turn may come: the seconds until then."""
    slot = pacing.reserve(channel_id, rate=rate, max_wait=float(settings.CHATDESK_SEND_PACE_WAIT))
    if not slot.reserved:
        _claimable(message_id).update(next_attempt_at=slot.at)
        return max(slot.wait(), 0.001)
    if (wait := slot.wait()) > 0:
        time.sleep(wait)
    return None


def _outbound_for(message: Message) -> Outbound:
    channel = message.channel
    callback = None
    if channel.kind == ChannelKind.SMS and settings.PUBLIC_URL:
        callback = (
            f"{settings.PUBLIC_URL}/webhooks/sms/{channel.pk}/status"
            f"?ref={reference_for(message.pk)}"
        )
    template = None
    if message.template is not None and message.content_type == ContentType.TEMPLATE:
        template = OutboundTemplate(
            name=message.template.name,
            language=message.template.language,
            variables=list(message.template_variables),
        )
    return Outbound(
        to_phone=message.chat.contact.phone or "",
        to_user_id=message.chat.contact.provider_user_id or "",
        text=message.text,
        template=template,
        status_callback_url=callback,
        reference=reference_for(message.pk),
    )


@dataclass(frozen=True)
class Attempt:
    """What one delivery attempt did, for logs: ``sent``, ``retry``, ``failed``, ``paced``
    (the channel is at its rate; put back for later) or ``skipped`` (not ours to send, or
    not yet); ``retry_in``: the seconds after which the message is due again, when it is."""

    outcome: str
    retry_in: float | None = None


def attempt(message_id: int, *, client: httpx.Client | None = None) -> Attempt:
    """Send one queued message through its channel, once. The caller schedules the next
    attempt when there is to be one (chatdesk.providers.tasks.deliver)."""
    channel = _claimable(message_id).values_list("channel_id", "channel__send_rate").first()
    if channel is None:
        return Attempt("skipped")  # a repeated task, or one whose retry is not due yet
    paced = _wait_for_slot(message_id, *channel)
    if paced is not None:
        return Attempt("paced", retry_in=paced)
    if not _claim(message_id):
        return Attempt("skipped")
    message = Message.objects.select_related("chat__contact", "channel", "template").get(
        pk=message_id
    )
    http = client or provider_client()
    try:
        result = sender_for(message.channel).send(http, _outbound_for(message))
    except SendError as error:
        return _after_failure(message, error)
    now = clock.now()
    mine = Message.objects.filter(pk=message_id, provider_message_id__isnull=True)
    with transaction.atomic():
        sent = mine.filter(status=DeliveryStatus.QUEUED).update(
            provider_message_id=result.provider_message_id,
            status=DeliveryStatus.SENT,
            sent_at=now,
            in_flight_since=None,
            next_attempt_at=None,
            error_code="",
            error_reason="",
        )
        if sent:
            _status_changed(message_id)
            live_events.number_before_commit()
        else:
            # A status callback moved it on already: keep its status, record the id.
            mine.update(provider_message_id=result.provider_message_id, in_flight_since=None)
    return Attempt("sent")


def _status_changed(message_id: int) -> None:
    message = Message.objects.select_related("template").get(pk=message_id)
    live_events.message_event(LiveEventType.MESSAGE_STATUS, message)


def _after_failure(message: Message, error: SendError) -> Attempt:
    now = clock.now()
    attempts = message.attempts
    if error.throttled:
        # The number as a whole is over its throughput: every worker waits, not only this
        # message (Retry-After when given, else one backoff step).
        pause = error.retry_after
        if pause is None:
            pause = float(settings.CHATDESK_SEND_BACKOFF_BASE)
        pacing.hold(message.channel_id, until=now + timedelta(seconds=pause))
    if error.retryable and attempts < settings.CHATDESK_SEND_MAX_ATTEMPTS:
        delay = backoff_delay(attempts, error.retry_after)
        Message.objects.filter(pk=message.pk, status=DeliveryStatus.QUEUED).update(
            in_flight_since=None,
            next_attempt_at=now + timedelta(seconds=delay),
            error_code=error.code[:32],
            error_reason=f"Retrying: {error.reason}"[:500],
        )
        log.info(
            "message %s: attempt %s failed (%s); retry in %.1fs",
            message.pk,
            attempts,
            error.reason,
            delay,
        )
        return Attempt("retry", retry_in=delay)
    reason = reason_for(error.code, error.reason)
    if error.retryable:
        reason = f"Gave up after {attempts} attempts: {reason}"
    with transaction.atomic():
        failed = Message.objects.filter(pk=message.pk, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.FAILED,
            failed_at=now,
            in_flight_since=None,
            next_attempt_at=None,
            error_code=error.code[:32],
            error_reason=reason[:500],
        )
        if error.code == sms_adapter.OPTED_OUT_ERROR:
            ContactOptOut.objects.get_or_create(
                contact_id=message.chat.contact_id,
                channel_id=message.channel_id,
                defaults={"keyword": "STOP", "created_at": now},
            )
        if failed:
            _status_changed(message.pk)
    return Attempt("failed")


@dataclass(frozen=True)
class Recovery:
    """What the outbox sweep found: ``due`` messages to enqueue again, and the counts."""

    due: list[int]
    ambiguous: int
    given_up: int

    def summary(self) -> dict[str, int]:
        return {"requeued": len(self.due), "ambiguous": self.ambiguous, "given_up": self.given_up}


def recover_outbox() -> Recovery:
    """Find messages whose delivery was interrupted, and settle them:
    - queued and due, but no worker on it (its task was lost): due again (the caller
      enqueues them);
    - in flight past the lease (the worker stopped mid-call): it may have gone out, so it
      is not sent again; after the give-up time with no status callback it fails with
      that reason."""
    now = clock.now()
    lease = timedelta(seconds=settings.CHATDESK_SEND_LEASE)
    give_up = timedelta(seconds=settings.CHATDESK_SEND_AMBIGUOUS_GIVE_UP)
    queued = Message.objects.filter(
        direction=Direction.OUT, status=DeliveryStatus.QUEUED, provider_message_id__isnull=True
    )
    with transaction.atomic():
        hopeless = list(
            queued.filter(in_flight_since__lt=now - give_up)
            .select_for_update()
            .values_list("pk", flat=True)[:1000]
        )
        given_up = queued.filter(pk__in=hopeless).update(
            status=DeliveryStatus.FAILED,
            failed_at=now,
            in_flight_since=None,
            error_code="ambiguous",
            error_reason=(
                "The send was interrupted and the provider never confirmed it; it may not "
                "have reached the contact."
            ),
        )
        for message_id in hopeless:
            _status_changed(message_id)
    ambiguous = (
        queued.filter(in_flight_since__lt=now - lease)
        .exclude(error_code="ambiguous")
        .update(
            error_code="ambiguous",
            error_reason="The send was interrupted; waiting for the provider to confirm it.",
        )
    )
    stale = now - lease
    due = list(
        queued.filter(in_flight_since__isnull=True)
        .filter(
            Q(next_attempt_at__isnull=True, created_at__lt=stale) | Q(next_attempt_at__lt=stale)
        )
        .values_list("pk", flat=True)[:1000]
    )
    return Recovery(due=due, ambiguous=ambiguous, given_up=given_up)
