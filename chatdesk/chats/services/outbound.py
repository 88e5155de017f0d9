"""What the desk sends: a reply, a re-engagement or an automatic reply is stored as a
queued message. Its delivery is enqueued after commit by the outbound flow
(chatdesk.flows.outbound) and carried out by chatdesk.providers.delivery."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

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
    Message,
)
from chatdesk.chats.services import timeline
from chatdesk.chats.window import CLOSED_WINDOW_REASON, contact_window
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict, NotFound
from chatdesk.providers.delivery import OPTED_OUT_REASON
from chatdesk.providers.models import Template, TemplateStatus
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEventType

MAX_TEXT = 4096  # WhatsApp's limit for a text body
BAD_VARIABLE = re.compile(r"[\n\t]| {5,}")  # Meta refuses these in template parameters


@dataclass(frozen=True)
class Reply:
    """Free text, or an approved template with its variables."""

    text: str | None = None
    template_id: int | None = None
    variables: tuple[str, ...] = ()


def send_message(*, chat_id: int, reply: Reply, by: User) -> Message:
    """Queue a message to the contact of a chat (the outbound flow delivers it after
    commit)."""
    if (reply.text is None) == (reply.template_id is None):
        raise BadInput("Send either text or a template_id with its variables, not both.")
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        access.check_may_send(by, chat)
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
        live_events.message_event(LiveEventType.MESSAGE_CREATED, message)
    return message


def retry_message(*, chat_id: int, message_id: int, by: User) -> Message:
    """Queue a failed message of a chat again: the same row, with a fresh round of attempts
    (a person chose to try again, so it gets the retries a new message gets; the outbound
    flow delivers it after commit). Only a failed message may be retried, so a second click
    finds it queued and is refused: it is never sent twice."""
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        access.check_may_send(by, chat)
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, chat=chat, direction=Direction.OUT)
            .first()
        )
        if message is None:
            raise NotFound(f"This chat has no message of the desk with the id {message_id}.")
        if message.status != DeliveryStatus.FAILED:
            raise Conflict(
                f"Only a failed message can be sent again; this one is {message.status}."
            )
        _check_not_opted_out(chat)
        if message.content_type != ContentType.TEMPLATE:
            window = contact_window(chat)
            if window.applies and not window.is_open:
                raise Conflict(CLOSED_WINDOW_REASON)
        # A failure the provider reported after accepting the message leaves its id; the
        # new send gets a new one.
        Message.objects.filter(pk=message.pk).update(
            status=DeliveryStatus.QUEUED,
            failed_at=None,
            error_code="",
            error_reason="",
            next_attempt_at=None,
            in_flight_since=None,
            provider_message_id=None,
            attempts=0,
        )
        message.refresh_from_db()
        live_events.message_event(LiveEventType.MESSAGE_STATUS, message)
    return message


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
        timeline.record_reengaged(
            chat=chat,
            by=by,
            message_id=message.pk,
            template=message.template.name if message.template else None,
        )


def queue_automatic_reply(*, chat: Chat, text: str) -> Message | None:
    """One of the channel's automatic replies, queued like any other message; None when
    the channel has none set."""
    if not text.strip():
        return None
    message = Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=Direction.OUT,
        content_type=ContentType.TEXT,
        text=text,
        is_automatic=True,
        status=DeliveryStatus.QUEUED,
        created_at=clock.now(),
    )
    live_events.message_event(LiveEventType.MESSAGE_CREATED, message)
    return message
