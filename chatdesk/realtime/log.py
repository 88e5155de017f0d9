"""The live-event log and its wire format: what services write, what clients receive.

A service writes a ``LiveEvent`` row (``seq`` empty) in its own transaction with
``publish`` or one of the builders below; a rollback leaves nothing. After the commit the
sequencer numbers it and the transport broadcasts it (``realtime.sequencer``). This module
is the bottom of the live stream: it imports only ``core`` and realtime's own models, so
every app's services may use it. It reaches the sequencer through the hooks the realtime
app installs at start-up (``use_sequencer``), never by importing it.

Each event type's ``data`` has a TypedDict here; the frame a client receives is
``LiveFrame`` (CONTRACT.md's ``{seq, type, chat_id, data}``). The module is a little over
400 lines because each TypedDict sits beside the builder that fills it, so a field is
added in one place."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Min

from chatdesk.core import clock
from chatdesk.realtime.models import LiveEvent, LiveEventType

if TYPE_CHECKING:  # for annotations only: the builders read these objects' fields
    from chatdesk.accounts.models import User
    from chatdesk.chats.models import Chat, Comment, Message, Notification

# --- The wire format ---------------------------------------------------------------------


class ContactData(TypedDict):
    id: int
    phone: str | None
    name: str
    provider_user_id: str | None
    username: str
    email: str


class ChatFields(TypedDict):
    """The chat as the REST API shows it, as committed when the event was numbered."""

    id: int
    kind: str
    status: str
    ticket_state: str | None
    channel_id: int
    channel_kind: str
    contact: ContactData
    agent_id: int | None
    department_id: int | None
    created_at: str | None
    queued_at: str | None
    assigned_at: str | None
    first_response_at: str | None
    last_inbound_at: str | None
    last_message_at: str | None
    closed_at: str | None
    closed_by: str | None
    closed_by_user_id: int | None
    window_open: bool
    window_expires_at: str | None
    continues_chat_id: int | None


class ChatData(ChatFields, total=False):
    """``chat.created``, ``chat.assigned``, ``chat.closed``, ``chat.reopened``: the chat,
    plus what the service that published the event added. (Optional keys by ``total``:
    ``NotRequired`` is not seen in postponed annotations.)"""

    by_id: int | None
    transfer: bool
    note: str
    reason: str
    from_queue: bool


class TemplateUse(TypedDict):
    id: int
    name: str
    language: str
    variables: list[str]


class MessageData(TypedDict):
    """``message.created`` and ``message.status``: the message as it now is."""

    id: int
    chat_id: int
    direction: str
    content_type: str
    text: str
    template: TemplateUse | None
    media: Any
    author_id: int | None
    is_automatic: bool
    status: str | None
    error_code: str
    error_reason: str
    provider_message_id: str | None
    created_at: str | None


class CommentData(TypedDict):
    """``comment.created``."""

    id: int
    chat_id: int
    author_id: int | None
    body: str
    mentions: list[int]
    created_at: str | None


class NotificationData(TypedDict):
    """``notification.created``, for its recipient alone."""

    id: int
    kind: str
    chat_id: int | None
    comment_id: int | None
    actor_id: int | None  # who did what it tells of (an assignment's supervisor)
    note: str  # the note written with an assignment or transfer; empty when none
    read_at: str | None
    created_at: str | None


class PresenceData(TypedDict):
    """``presence.changed``, for everyone signed in."""

    user_id: int
    presence: str
    online: bool


class ViewerData(TypedDict):
    """``user.changed`` (internal, never sent to a client): what the visibility rule needs
    to know about the user from this point in the order of events."""

    user_id: int
    oversees: bool
    department_ids: list[int]
    is_active: bool


LiveData = ChatData | MessageData | CommentData | NotificationData | PresenceData | ViewerData

# The ``data`` of each event type.
DATA_OF: dict[str, type[LiveData]] = {
    LiveEventType.CHAT_CREATED: ChatData,
    LiveEventType.CHAT_ASSIGNED: ChatData,
    LiveEventType.CHAT_CLOSED: ChatData,
    LiveEventType.CHAT_REOPENED: ChatData,
    LiveEventType.MESSAGE_CREATED: MessageData,
    LiveEventType.MESSAGE_STATUS: MessageData,
    LiveEventType.COMMENT_CREATED: CommentData,
    LiveEventType.NOTIFICATION_CREATED: NotificationData,
    LiveEventType.PRESENCE_CHANGED: PresenceData,
    LiveEventType.USER_CHANGED: ViewerData,
}


class LiveFrame(TypedDict):
    """What a client receives, one per WebSocket frame."""

    seq: int
    type: str
    chat_id: int | None
    data: dict[str, Any]


class LiveEnvelope(TypedDict):
    """An event as it travels between processes: the frame's fields plus its audience.
    ``seq`` is empty only for a row not yet numbered, which never travels."""

    seq: int | None
    type: str
    chat_id: int | None
    data: dict[str, Any]
    agent_id: int | None
    previous_agent_id: int | None
    department_id: int | None
    previous_department_id: int | None
    user_id: int | None
    everyone: bool


def as_dict(event: LiveEvent) -> LiveEnvelope:
    """The row as it travels between processes."""
    return {
        "seq": event.seq,
        "type": event.type,
        "chat_id": event.chat_id,
        "data": event.data,
        "agent_id": event.agent_id,
        "previous_agent_id": event.previous_agent_id,
        "department_id": event.department_id,
        "previous_department_id": event.previous_department_id,
        "user_id": event.user_id,
        "everyone": event.everyone,
    }


def frame(event: LiveEnvelope | Mapping[str, Any]) -> LiveFrame:
    """What a client receives: CONTRACT.md's ``{seq, type, chat_id, data}``."""
    assert event["seq"] is not None, "only numbered events are sent"
    return {
        "seq": event["seq"],
        "type": event["type"],
        "chat_id": event["chat_id"],
        "data": event["data"],
    }


_JSON = DjangoJSONEncoder()


def when(value: datetime | None) -> str | None:
    """As the REST API writes times: ISO 8601 to the millisecond, ``Z`` for UTC."""
    return None if value is None else str(_JSON.default(value))


# --- Writing the log ---------------------------------------------------------------------

_local = threading.local()


class _Hooks:
    after_commit: Callable[[], object] = staticmethod(lambda: None)
    before_commit: Callable[[], object] = staticmethod(lambda: None)


def use_sequencer(
    *, after_commit: Callable[[], object], before_commit: Callable[[], object]
) -> None:
    """Installed once by the realtime app: what numbers the pending events after a commit
    (``sequence_pending``) and as a transaction's last step (``number_before_commit``)."""
    _Hooks.after_commit = staticmethod(after_commit)
    _Hooks.before_commit = staticmethod(before_commit)


def has_pending() -> bool:
    """Whether this thread published events that no sequencer has numbered yet."""
    return bool(getattr(_local, "pending", False))


def set_pending(pending: bool) -> None:
    _local.pending = pending


def publish(
    type: LiveEventType | str,
    *,
    data: dict[str, Any],
    chat_id: int | None = None,
    previous_agent_id: int | None = None,
    previous_department_id: int | None = None,
    user_id: int | None = None,
    everyone: bool = False,
) -> LiveEvent:
    """Record one event in the current transaction; it goes out after the commit. An
    event with a ``chat_id`` is addressed to who may see that chat when it is numbered
    (plus the previous agent and queue given here); a ``chat.*`` event's ``data`` is the
    chat at that moment, with ``data`` given here added (a transfer's note, say)."""
    event = LiveEvent.objects.create(
        type=str(type),
        data=data,
        chat_id=chat_id,
        previous_agent_id=previous_agent_id,
        previous_department_id=previous_department_id,
        user_id=user_id,
        everyone=everyone,
        created_at=clock.now(),
    )
    set_pending(True)
    transaction.on_commit(_after_commit, robust=True)
    return event


def _after_commit() -> None:
    # Every publish registers this; the first run after a commit numbers them all.
    if not has_pending():
        return
    set_pending(False)
    _Hooks.after_commit()


def number_before_commit() -> None:
    """Number the events published so far as the last step of the caller's (outermost)
    transaction instead of in one of their own after the commit; see
    ``sequencer.number_before_commit``. The broadcast still waits for the commit."""
    _Hooks.before_commit()


def latest_seq() -> int:
    return LiveEvent.objects.aggregate(last=Max("seq"))["last"] or 0


def log_bounds() -> tuple[int | None, int | None]:
    """The oldest and newest ``seq`` still kept."""
    numbered = LiveEvent.objects.filter(seq__isnull=False)
    bounds = numbered.aggregate(first=Min("seq"), last=Max("seq"))
    return bounds["first"], bounds["last"]


# --- What services publish ---------------------------------------------------------------


def chat_event(
    type: LiveEventType | str,
    chat: Chat,
    data: dict[str, Any] | None = None,
    *,
    previous_agent_id: int | None = None,
    previous_department_id: int | None = None,
) -> LiveEvent:
    """An event about a chat (``ChatData`` once numbered); ``previous_*``: the agent and
    the ticket queue the chat just left, so their screens can drop it."""
    return publish(
        type,
        data=data or {},
        chat_id=chat.pk,
        previous_agent_id=previous_agent_id,
        previous_department_id=previous_department_id,
    )


def message_data(message: Message) -> MessageData:
    template = message.template
    return {
        "id": message.pk,
        "chat_id": message.chat_id,
        "direction": message.direction,
        "content_type": message.content_type,
        # A message the customer deleted: its text goes to nobody on the stream (agents may
        # not read it; supervisors see it on the page).
        "text": "" if message.media.get("revoked_at") else message.text,
        "template": None
        if template is None
        else {
            "id": template.pk,
            "name": template.name,
            "language": template.language,
            "variables": [str(value) for value in message.template_variables],
        },
        "media": message.media,
        "author_id": message.author_id,
        "is_automatic": message.is_automatic,
        "status": message.status,
        "error_code": message.error_code,
        "error_reason": message.error_reason,
        "provider_message_id": message.provider_message_id,
        "created_at": when(message.created_at),
    }


def message_event(type: LiveEventType | str, message: Message) -> LiveEvent:
    """``message.created`` or ``message.status``: the message as it now is."""
    return publish(type, data=dict(message_data(message)), chat_id=message.chat_id)


def comment_data(comment: Comment, mention_ids: list[int]) -> CommentData:
    return {
        "id": comment.pk,
        "chat_id": comment.chat_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "mentions": sorted(mention_ids),
        "created_at": when(comment.created_at),
    }


def comment_created(comment: Comment, mention_ids: list[int]) -> LiveEvent:
    return publish(
        LiveEventType.COMMENT_CREATED,
        data=dict(comment_data(comment, mention_ids)),
        chat_id=comment.chat_id,
    )


def notification_data(notification: Notification) -> NotificationData:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "chat_id": notification.chat_id,
        "comment_id": notification.comment_id,
        "actor_id": notification.actor_id,
        "note": notification.note,
        "read_at": when(notification.read_at),
        "created_at": when(notification.created_at),
    }


def notification_created(notification: Notification) -> LiveEvent:
    """For its recipient alone."""
    return publish(
        LiveEventType.NOTIFICATION_CREATED,
        data=dict(notification_data(notification)),
        chat_id=notification.chat_id,
        user_id=notification.recipient_id,
    )


def viewer_data(user: User) -> ViewerData:
    """What the visibility rule needs to know about a user, as of now."""
    return {
        "user_id": user.pk,
        "oversees": user.oversees,
        "department_ids": sorted(user.departments.values_list("pk", flat=True)),
        "is_active": user.is_active,
    }


def user_changed(user: User) -> LiveEvent:
    """The user's role, departments or active flag changed: every hub re-addresses that
    user's sockets at this point in the order of events (closing them if deactivated).
    Internal: never sent to a client."""
    return publish(LiveEventType.USER_CHANGED, data=dict(viewer_data(user)), user_id=user.pk)


def presence_data(user: User, *, online: bool) -> PresenceData:
    return {"user_id": user.pk, "presence": user.presence, "online": online}


def presence_changed(user: User, *, online: bool) -> LiveEvent:
    """For everyone signed in: agents pick transfer targets, supervisors watch the team."""
    return publish(
        LiveEventType.PRESENCE_CHANGED, data=dict(presence_data(user, online=online)), everyone=True
    )
