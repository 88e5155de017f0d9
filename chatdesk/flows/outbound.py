"""What the desk sends: the message is queued by chats.services.outbound in its
transaction, and its delivery enqueued (chatdesk.providers.tasks) only once that commits,
so a rolled-back reply is never sent."""

from __future__ import annotations

from django.db import transaction

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Message
from chatdesk.chats.services import outbound
from chatdesk.chats.services.outbound import Reply
from chatdesk.providers.tasks import enqueue_delivery


def deliver_after_commit(message: Message) -> None:
    message_id = message.pk
    transaction.on_commit(lambda: enqueue_delivery(message_id))


def send_message(*, chat_id: int, reply: Reply, by: User) -> Message:
    """Queue a message to the contact of a chat, and deliver it after commit."""
    message = outbound.send_message(chat_id=chat_id, reply=reply, by=by)
    deliver_after_commit(message)
    return message


def retry_message(*, chat_id: int, message_id: int, by: User) -> Message:
    """Queue a failed message again, and deliver it after commit."""
    message = outbound.retry_message(chat_id=chat_id, message_id=message_id, by=by)
    deliver_after_commit(message)
    return message


def send_automatic_reply(*, chat: Chat, text: str) -> Message | None:
    """One of the channel's automatic replies (none when ``text`` is empty)."""
    message = outbound.queue_automatic_reply(chat=chat, text=text)
    if message is not None:
        deliver_after_commit(message)
    return message
