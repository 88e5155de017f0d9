"""Closing and reopening chats and tickets."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, ClosedBy, EventKind, TicketState
from chatdesk.chats.services import timeline
from chatdesk.core import clock
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import EventType


def close(chat: Chat, *, closed_by: str, user: User | None) -> Chat:
    """Close a chat or ticket (the caller checked who may); a closed one stays as it is."""
    locked = Chat.objects.select_for_update().get(pk=chat.pk)
    if locked.status == ChatStatus.CLOSED:
        return locked
    was_queue = access.queue_department(locked)
    locked.status = ChatStatus.CLOSED
    locked.closed_at = clock.now()
    locked.closed_by = closed_by
    locked.closed_by_user = user
    locked.queued_at = None
    if locked.kind == ChatKind.TICKET:
        locked.ticket_state = TicketState.CLOSED
    locked.save()
    timeline.record(locked, EventKind.CLOSED, actor=user, closed_by=closed_by)
    live_events.chat_event(EventType.CHAT_CLOSED, locked, previous_department_id=was_queue)
    return locked


def close_by_contact(*, chat: Chat) -> Chat:
    """The contact sent the channel's end keyword (``//end``); the agent's capacity frees."""
    from django.db import transaction

    from chatdesk.routing import assignment

    agent_id = chat.agent_id
    closed = close(chat, closed_by=ClosedBy.CONTACT, user=None)
    if agent_id is not None and chat.kind == ChatKind.CHAT:
        agent = User.objects.get(pk=agent_id)
        transaction.on_commit(lambda: assignment.agent_became_available(user=agent))
    return closed


def close_inactive_chats() -> list[int]:
    """Close live chats with no message for the configured time (closed by the system),
    and offer the freed capacity to waiting chats. Returns the ids closed."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import transaction
    from django.db.models import Q

    from chatdesk.routing import assignment

    cutoff = clock.now() - timedelta(seconds=settings.CHATDESK_INACTIVITY_CLOSE)
    stale = Chat.objects.filter(kind=ChatKind.CHAT, status=ChatStatus.OPEN).filter(
        Q(last_message_at__lt=cutoff) | Q(last_message_at__isnull=True, created_at__lt=cutoff)
    )
    closed: list[int] = []
    departments: set[int | None] = set()
    for chat_id in list(stale.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
            if chat is None or chat.status != ChatStatus.OPEN:
                continue
            had_agent = chat.agent_id is not None
            close(chat, closed_by=ClosedBy.SYSTEM, user=None)
            closed.append(chat.pk)
            if had_agent:
                departments.add(chat.department_id)
    if departments:
        assignment.drain_for([*departments, None])
    return closed
