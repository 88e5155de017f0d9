"""Closing and reopening chats and tickets. A close frees its agent's room and a reopened
chat may wait for an agent: the results say so, and the flows drain the queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from chatdesk.accounts.models import Role, User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, ClosedBy, TicketState
from chatdesk.chats.services import timeline
from chatdesk.core import clock
from chatdesk.core.errors import Conflict, Forbidden
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEventType


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
    timeline.record_closed(chat=locked, by=user, closed_by=closed_by)
    live_events.chat_event(LiveEventType.CHAT_CLOSED, locked, previous_department_id=was_queue)
    return locked


@dataclass(frozen=True)
class Closed:
    """A chat closed; ``freed_agent_id`` is the agent of the live chat, whose room may
    now go to a waiting chat."""

    chat: Chat
    freed_agent_id: int | None = None


def close_by_contact(*, chat: Chat) -> Closed:
    """The contact sent the channel's end keyword (``//end``)."""
    agent_id = chat.agent_id if chat.kind == ChatKind.CHAT else None
    return Closed(close(chat, closed_by=ClosedBy.CONTACT, user=None), freed_agent_id=agent_id)


def close_chat(*, chat_id: int, by: User) -> Closed:
    """Close a live chat or a ticket: the agent who holds it, or a supervisor."""
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        if chat.status == ChatStatus.CLOSED:
            raise Conflict("This chat is already closed.")
        if not by.oversees and chat.agent_id != by.pk:
            raise Forbidden("Only the agent who holds it or a supervisor can close it.")
        closed_by = ClosedBy.SUPERVISOR if by.oversees else ClosedBy.AGENT
        was_agent = chat.agent_id if chat.kind == ChatKind.CHAT else None
        chat = close(chat, closed_by=closed_by, user=by)
    return Closed(chat, freed_agent_id=was_agent)


@dataclass(frozen=True)
class Reopened:
    """A chat reopened; ``waiting`` when nobody holds it and it waits in its queue."""

    chat: Chat
    waiting: bool = False


def reopen_chat(*, chat_id: int, by: User) -> Reopened:
    """Reopen a closed chat (to its agent, or to the agent reopening it) or ticket."""
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        if chat.status != ChatStatus.CLOSED:
            raise Conflict("This chat is open already.")
        if not by.oversees and chat.agent_id != by.pk:
            raise Forbidden("Only the agent who had it or a supervisor can reopen it.")
        busy = Chat.objects.filter(
            contact_id=chat.contact_id,
            channel_id=chat.channel_id,
            kind=chat.kind,
            status=ChatStatus.OPEN,
        ).exclude(pk=chat.pk)
        if busy.exists():
            raise Conflict(
                f"The contact already has an open {chat.get_kind_display().lower()} on this "
                "channel."
            )
        was_queue = access.queue_department(chat)
        chat.status = ChatStatus.OPEN
        chat.closed_at = None
        chat.closed_by = None
        chat.closed_by_user = None
        if chat.kind == ChatKind.TICKET:
            chat.ticket_state = TicketState.ASSIGNED if chat.agent_id else TicketState.UNASSIGNED
        elif chat.agent_id is None and by.role == Role.AGENT:
            chat.agent = by
        waiting = chat.kind == ChatKind.CHAT and chat.agent_id is None
        if waiting:
            chat.queued_at = clock.now()  # nobody holds it: it waits for the next agent
        chat.save()
        timeline.record_reopened(chat=chat, by=by)
        live_events.chat_event(
            LiveEventType.CHAT_REOPENED, chat, {"by_id": by.pk}, previous_department_id=was_queue
        )
    return Reopened(chat, waiting=waiting)


@dataclass(frozen=True)
class InactiveClosed:
    """The chats the inactivity sweep closed, and the departments whose agents got room."""

    chat_ids: list[int]
    freed_departments: set[int | None]


def close_inactive_chats() -> InactiveClosed:
    """Close live chats with no message for the configured time (closed by the system)."""
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
    return InactiveClosed(closed, departments)
