"""What the desk sends: a reply or a re-engagement is stored as a queued message, and
after commit a worker delivers it through the channel's provider.

Delivery is at most once per message: a worker claims the message with one conditional
UPDATE just before the provider call, so a task that runs twice finds nothing to claim.
Retryable failures (429, 5xx, timeouts, connection errors) back off exponentially with
jitter, honouring Retry-After, up to a bound; then the message fails with its reason.
A worker that stops during the provider call leaves the message "in flight": the
provider's status callback, which carries our reference, settles it (see inbound).

Every attempt, a retry too, first takes its channel's next send slot (``pacing``), so the
channel's rate holds across all workers. The slot is taken and waited for before the
claim: a worker stopped while it waits leaves the message queued, not in flight, and the
outbox sweep sends it later.
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    ContactOptOut,
    ContentType,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
)
from chatdesk.chats.services import timeline
from chatdesk.chats.services.inbound import OPTED_OUT_REASON, reason_for
from chatdesk.chats.window import CLOSED_WINDOW_REASON, contact_window
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.providers import pacing
from chatdesk.providers.adapters import sms as sms_adapter
from chatdesk.providers.base import Outbound, OutboundTemplate, SendError, reference_for
from chatdesk.providers.http import provider_client
from chatdesk.providers.models import ChannelKind, Template, TemplateStatus
from chatdesk.providers.registry import sender_for
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import EventType

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # WhatsApp's limit for a text body
BAD_VARIABLE = re.compile(r"[\n\t]| {5,}")  # Meta refuses these in template parameters


@dataclass(frozen=True)
class Reply:
    """Free text, or an approved template with its variables."""

    text: str | None = None
    template_id: int | None = None
    variables: tuple[str, ...] = ()


def send_message(*, chat_id: int, reply: Reply, by: User) -> Message:
    """Queue a message to the contact of a chat, and deliver it after commit."""
    if (reply.text is None) == (reply.template_id is None):
        raise BadInput("Send either text or a template_id with its variables, not both.")
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        _check_may_send(chat, by)
        _check_not_opted_out(chat)
        now = clock.now()
        message = Message(
            chat=chat,
            channel=chat.channel,
            direction=Direction.OUT,
            status=DeliveryStatus.QUEUED,
            author=by,
            created_at=now,
        )
        if reply.text is not None:
            message.content_type = ContentType.TEXT
            message.text = _checked_text(reply.text)
            window = contact_window(chat, at=now)
            if window.applies and not window.is_open:
                raise Conflict(CLOSED_WINDOW_REASON)
        else:
            assert reply.template_id is not None
            template = _approved_template(chat, reply.template_id)
            variables = _checked_variables(template, list(reply.variables))
            message.content_type = ContentType.TEMPLATE
            message.template = template
            message.template_variables = variables
            message.text = render(template.body, variables)
        message.save()
        _note_reply(chat, by, message)
        live_events.message_event(EventType.MESSAGE_CREATED, message)
        transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


def _check_may_send(chat: Chat, by: User) -> None:
    access.check_may_send(by, chat)


def _check_not_opted_out(chat: Chat) -> None:
    if ContactOptOut.objects.filter(
        contact_id=chat.contact_id, channel_id=chat.channel_id
    ).exists():
        raise Conflict(OPTED_OUT_REASON)


def _checked_text(text: str) -> str:
    if not text.strip():
        raise BadInput("The message is empty.")
    if len(text) > MAX_TEXT:
        raise BadInput(f"A message can be at most {MAX_TEXT} characters; this one has {len(text)}.")
    return text


def _approved_template(chat: Chat, template_id: int) -> Template:
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        raise BadInput(f"No template has the id {template_id}.")
    if template.channel_id != chat.channel_id:
        raise BadInput(f"The template {template.name!r} belongs to another channel.")
    if template.status != TemplateStatus.APPROVED:
        raise Conflict(
            f"The template {template.name!r} is {template.status}; only approved templates "
            "can be sent."
        )
    return template


def _checked_variables(template: Template, variables: list[str]) -> list[str]:
    expected = template.variable_count
    if len(variables) != expected:
        raise BadInput(
            f"The template {template.name!r} takes {expected} variable"
            f"{'s' if expected != 1 else ''}; {len(variables)} were given."
        )
    for number, value in enumerate(variables, start=1):
        if not str(value).strip():
            raise BadInput(f"Variable {{{{{number}}}}} is empty.")
        if BAD_VARIABLE.search(str(value)):
            raise BadInput(
                f"Variable {{{{{number}}}}} may not contain new lines, tabs or more than four "
                "spaces in a row."
            )
    return [str(v) for v in variables]


def render(body: str, variables: list[str]) -> str:
    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return variables[index] if 0 <= index < len(variables) else match.group(0)

    return re.sub(r"\{\{\s*(\d+)\s*\}\}", fill, body)


def _note_reply(chat: Chat, by: User, message: Message) -> None:
    now = message.created_at
    changes: dict[str, object] = {"last_message_at": now}
    if chat.first_response_at is None and chat.agent_id == by.pk:
        changes["first_response_at"] = now
    Chat.objects.filter(pk=chat.pk).update(**changes)
    reengaging = chat.status == ChatStatus.CLOSED or chat.kind == ChatKind.TICKET
    if reengaging:
        timeline.record(
            chat,
            EventKind.REENGAGED,
            actor=by,
            message_id=message.pk,
            template=message.template.name if message.template else None,
        )


def enqueue_delivery(message_id: int, *, delay: float = 0.0) -> None:
    from chatdesk.providers.tasks import deliver_message

    if delay > 0:
        deliver_message.using(run_after=clock.now() + timedelta(seconds=delay)).enqueue(message_id)
    else:
        deliver_message.enqueue(message_id)


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


def _wait_for_slot(message_id: int, channel_id: int, rate: int) -> bool:
    """Take the channel's next send slot and sleep until it. False when the slot is too far
    off: the message is put back, due when its turn may come, with a task for then."""
    slot = pacing.reserve(channel_id, rate=rate, max_wait=float(settings.CHATDESK_SEND_PACE_WAIT))
    if not slot.reserved:
        delay = max(slot.wait(), 0.001)
        _claimable(message_id).update(next_attempt_at=slot.at)
        transaction.on_commit(lambda: enqueue_delivery(message_id, delay=delay))
        return False
    if (wait := slot.wait()) > 0:
        time.sleep(wait)
    return True


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
        to_phone=message.chat.contact.phone,
        text=message.text,
        template=template,
        status_callback_url=callback,
        reference=reference_for(message.pk),
    )


def deliver(message_id: int, *, client: httpx.Client | None = None) -> str:
    """Send one queued message through its channel. Returns what happened, for logs:
    ``sent``, ``retry``, ``failed``, ``paced`` (the channel is at its rate; put back for
    later) or ``skipped`` (not ours to send, or not yet)."""
    channel = _claimable(message_id).values_list("channel_id", "channel__send_rate").first()
    if channel is None:
        return "skipped"  # a repeated task, or one whose retry is not due yet
    if not _wait_for_slot(message_id, *channel):
        return "paced"
    if not _claim(message_id):
        return "skipped"
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
    return "sent"


def _status_changed(message_id: int) -> None:
    message = Message.objects.select_related("template").get(pk=message_id)
    live_events.message_event(EventType.MESSAGE_STATUS, message)


def _after_failure(message: Message, error: SendError) -> str:
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
        transaction.on_commit(lambda: enqueue_delivery(message.pk, delay=delay))
        log.info(
            "message %s: attempt %s failed (%s); retry in %.1fs",
            message.pk,
            attempts,
            error.reason,
            delay,
        )
        return "retry"
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
    return "failed"


def recover_outbox() -> dict[str, int]:
    """Find messages whose delivery was interrupted, and settle them:
    - queued and due, but no worker on it (its task was lost): queue its delivery again;
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
    for message_id in due:
        enqueue_delivery(message_id)
    return {"requeued": len(due), "ambiguous": ambiguous, "given_up": given_up}
