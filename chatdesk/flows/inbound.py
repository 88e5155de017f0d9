"""A message reaches the desk: store it, place the chat it started, reply. One
transaction per message, the live events numbered as its last step.

Every inbound message is stored in its own transaction, so a retried webhook whose first
half was stored stores only the rest. Inside it: chats.services.inbound stores the message
(joining or starting a chat, its keywords applied); a new chat is placed as routing
decides (chatdesk.routing.placement, which locks the candidate agents in id order before
counting their chats) and chats.services.assignment writes that; the automatic reply is
queued and its delivery enqueued after commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from chatdesk.accounts.models import User
from chatdesk.chats.models import ChatStatus, Message
from chatdesk.chats.services import assignment, inbound
from chatdesk.flows import outbound, queues
from chatdesk.providers import provider_events
from chatdesk.providers.base import InboundMessage, WebhookBatch
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_events
from chatdesk.routing import placement


@dataclass
class ReceiveResult:
    stored: list[int] = field(default_factory=list)  # message ids
    duplicates: int = 0
    statuses_applied: int = 0
    statuses_ignored: int = 0
    kept: int = 0  # unreadable items kept raw for the admins
    notices: int = 0  # provider notices about a contact with no chat here to show them in


def receive_batch(*, channel: Channel, batch: WebhookBatch) -> ReceiveResult:
    """Store a parsed webhook: each message in its own transaction, then the statuses,
    then (raw, for the admins) the items that could not be read."""
    result = ReceiveResult()
    for message in batch.messages:
        stored, duplicate = _receive_once(channel, message)
        if duplicate:
            result.duplicates += 1
        elif stored is None:
            result.notices += 1
        else:
            result.stored.append(stored.pk)
    for update in batch.statuses:
        if inbound.apply_status(channel=channel, update=update):
            result.statuses_applied += 1
        else:
            result.statuses_ignored += 1
    if batch.unreadable:
        result.kept = provider_events.keep_unreadable(channel=channel, items=batch.unreadable)
    return result


# A message whose transaction met a concurrent one (the same new contact or chat created
# at the same moment) is stored again from the start, with what that one committed.
_ATTEMPTS = 3


def receive_message(*, channel: Channel, inbound: InboundMessage) -> Message | None:
    """Store one inbound message and place the chat it starts; None when it was already
    stored (a retried webhook), or when it is a provider's notice with no chat to join."""
    return _receive_once(channel, inbound)[0]


def _receive_once(channel: Channel, inbound: InboundMessage) -> tuple[Message | None, bool]:
    """The stored message (None when there was nothing to store) and whether it was a
    duplicate.

    The database's unique provider id is the only duplicate check: a duplicate's insert
    fails and its whole transaction rolls back, with whatever it had started (a contact,
    a chat). Nothing inside takes a savepoint: any conflict (also a contact or a chat
    created by a concurrent request) undoes the attempt, and the next one finds the rows
    the other request committed. The live events are numbered before the commit."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with transaction.atomic():
                message = _receive(channel, inbound)
                live_events.number_before_commit()
            return message, False
        except IntegrityError:
            if Message.objects.filter(
                channel=channel, provider_message_id=inbound.provider_message_id
            ).exists():
                return None, True
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _receive(channel: Channel, message: InboundMessage) -> Message | None:
    stored = inbound.store_message(channel=channel, inbound=message)
    if stored is None:
        return None
    if stored.starts_chat and stored.chat.status == ChatStatus.OPEN:
        decision = placement.place_new_chat(stored.chat, reengaged_by_id=stored.reengaged_by_id)
        chat = assignment.place_chat(stored.chat, decision)
        outbound.send_automatic_reply(chat=chat, text=decision.reply)
    if stored.freed_agent_id is not None:
        # The contact ended a live chat: its agent's room may go to a waiting chat.
        agent = User.objects.get(pk=stored.freed_agent_id)
        transaction.on_commit(lambda: queues.agent_became_available(user=agent))
    return stored.message
