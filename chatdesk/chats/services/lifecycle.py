"""Closing and reopening chats and tickets."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, ClosedBy, EventKind, TicketState
from chatdesk.chats.services import timeline
from chatdesk.core import clock


def _close(chat: Chat, *, closed_by: str, user: User | None) -> Chat:
    locked = Chat.objects.select_for_update().get(pk=chat.pk)
    if locked.status == ChatStatus.CLOSED:
        return locked
    locked.status = ChatStatus.CLOSED
    locked.closed_at = clock.now()
    locked.closed_by = closed_by
    locked.closed_by_user = user
    locked.queued_at = None
    if locked.kind == ChatKind.TICKET:
        locked.ticket_state = TicketState.CLOSED
    locked.save()
    timeline.record(locked, EventKind.CLOSED, actor=user, closed_by=closed_by)
    return locked


def close_by_contact(*, chat: Chat) -> Chat:
    """The contact sent the channel's end keyword (``//end``)."""
    return _close(chat, closed_by=ClosedBy.CONTACT, user=None)
