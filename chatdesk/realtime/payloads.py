"""The ``data`` of each live event: the same fields the REST API returns for the object,
as plain JSON, so a client can update its screen without another request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Comment, Message, Notification
from chatdesk.chats.window import contact_window

_JSON = DjangoJSONEncoder()


def _when(value: datetime | None) -> str | None:
    """As the REST API writes times: ISO 8601 to the millisecond, ``Z`` for UTC."""
    return None if value is None else str(_JSON.default(value))


def chat_data(chat: Chat) -> dict[str, Any]:
    contact = chat.contact
    window = contact_window(chat)
    return {
        "id": chat.pk,
        "kind": chat.kind,
        "status": chat.status,
        "ticket_state": chat.ticket_state,
        "channel_id": chat.channel_id,
        "channel_kind": chat.channel.kind,
        "contact": {"id": contact.pk, "phone": contact.phone, "name": contact.name},
        "agent_id": chat.agent_id,
        "department_id": chat.department_id,
        "created_at": _when(chat.created_at),
        "queued_at": _when(chat.queued_at),
        "assigned_at": _when(chat.assigned_at),
        "first_response_at": _when(chat.first_response_at),
        "last_inbound_at": _when(chat.last_inbound_at),
        "last_message_at": _when(chat.last_message_at),
        "closed_at": _when(chat.closed_at),
        "closed_by": chat.closed_by,
        "closed_by_user_id": chat.closed_by_user_id,
        "window_open": window.is_open,
        "window_expires_at": _when(window.expires_at),
    }


def message_data(message: Message) -> dict[str, Any]:
    template = message.template
    return {
        "id": message.pk,
        "chat_id": message.chat_id,
        "direction": message.direction,
        "content_type": message.content_type,
        "text": message.text,
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
        "created_at": _when(message.created_at),
    }


def comment_data(comment: Comment, mention_ids: list[int]) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "chat_id": comment.chat_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "mentions": sorted(mention_ids),
        "created_at": _when(comment.created_at),
    }


def notification_data(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "chat_id": notification.chat_id,
        "comment_id": notification.comment_id,
        "read_at": _when(notification.read_at),
        "created_at": _when(notification.created_at),
    }


def presence_data(user: User, *, online: bool) -> dict[str, Any]:
    return {"user_id": user.pk, "presence": user.presence, "online": online}
