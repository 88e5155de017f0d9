"""Replies to a re-engagement: which follow-up a contact's new chat answers, and the earlier
conversation the new chat's panel shows above its own messages.

A re-engagement is a message the desk sent into a closed chat or a ticket (the timeline's
``reengaged``). The contact's next message on that channel starts a new chat; it continues
the earlier one when that is the contact's latest chat there, it is closed, and it was
re-engaged after the contact last wrote in it, within ``ANSWERED_WITHIN``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, Subquery

from chatdesk.accounts.models import User
from chatdesk.chats.access import may_see_chat
from chatdesk.chats.models import Chat, ChatEvent, ChatStatus, EventKind, Message

# A reply later than this is a new conversation, not an answer to the follow-up.
ANSWERED_WITHIN = timedelta(days=7)
# The earlier conversation is context, not a second transcript: its last messages only.
EARLIER_MESSAGES = 20


@dataclass(frozen=True)
class Reengagement:
    """The follow-up a new chat answers: the chat it was sent into, who sent it, which
    message (None when the timeline did not name one)."""

    chat_id: int
    by_id: int | None
    message_id: int | None


def reengagement_answered(
    *, contact_id: int, channel_id: int, now: datetime
) -> Reengagement | None:
    """The re-engagement the contact's message (about to start a new chat on the channel)
    answers, if any: one statement. Call it before the new chat exists."""
    latest = (
        Chat.objects.filter(contact_id=contact_id, channel_id=channel_id)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    row = (
        ChatEvent.objects.filter(
            kind=EventKind.REENGAGED,
            chat_id=Subquery(latest),
            chat__status=ChatStatus.CLOSED,
            created_at__gte=now - ANSWERED_WITHIN,
        )
        .filter(
            Q(chat__last_inbound_at__isnull=True) | Q(created_at__gt=F("chat__last_inbound_at"))
        )
        .order_by("-created_at", "-pk")
        .values_list("chat_id", "actor_id", "data")
        .first()
    )
    if row is None:
        return None
    chat_id, actor_id, data = row
    message_id = data.get("message_id") if isinstance(data, dict) else None
    return Reengagement(chat_id, actor_id, message_id if isinstance(message_id, int) else None)


@dataclass(frozen=True)
class EarlierConversation:
    """What a chat that answers a re-engagement shows of the chat it continues."""

    chat: Chat
    messages: list[Message]  # its last EARLIER_MESSAGES, oldest first
    more: bool  # it had older messages than these
    reengaged_by: User | None
    reengagement_message_id: int | None
    viewer_may_open: bool  # the viewer may see the earlier chat itself (a link to it)


def earlier_conversation(chat: Chat, *, viewer: User) -> EarlierConversation | None:
    """The earlier conversation ``chat`` continues (None when it continues none), for a
    viewer who may see ``chat``: its last messages, the re-engagement among them, are
    context for whoever holds the new chat, even one who may not open the earlier one."""
    if chat.continues_id is None:
        return None
    earlier = (
        Chat.objects.select_related("contact", "channel", "agent")
        .filter(pk=chat.continues_id)
        .first()
    )
    if earlier is None:
        return None
    rows = list(
        Message.objects.filter(chat=earlier)
        .select_related("template", "author")
        .order_by("-created_at", "-id")[: EARLIER_MESSAGES + 1]
    )
    more = len(rows) > EARLIER_MESSAGES
    rows = rows[:EARLIER_MESSAGES]
    rows.reverse()
    reply = (
        ChatEvent.objects.filter(chat=chat, kind=EventKind.REENGAGEMENT_REPLY)
        .order_by("created_at", "id")
        .values_list("data", flat=True)
        .first()
    )
    data = reply if isinstance(reply, dict) else {}
    by_id, message_id = data.get("reengaged_by_id"), data.get("message_id")
    reengaged_by = User.objects.filter(pk=by_id).first() if isinstance(by_id, int) else None
    return EarlierConversation(
        chat=earlier,
        messages=rows,
        more=more,
        reengaged_by=reengaged_by,
        reengagement_message_id=message_id if isinstance(message_id, int) else None,
        viewer_may_open=may_see_chat(viewer, earlier),
    )
