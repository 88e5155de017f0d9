"""The department queues: hand waiting chats to agents who can take them, send an absent
agent's chats back, and move chats whose first message went unanswered. Routing
(chatdesk.routing.placement) decides under the agent locks; chats.services.assignment
writes the move."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction

from chatdesk.accounts.models import Role, User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, EventKind, NotificationKind
from chatdesk.chats.services import assignment
from chatdesk.core import clock
from chatdesk.routing import placement
from chatdesk.routing.queries import departments_of, previous_agent_id


def drain_queue(department_id: int | None) -> list[int]:
    """Hand waiting chats of a department (oldest first) to agents who can take them;
    the ids of the chats assigned."""
    assigned: list[int] = []
    for _ in range(1000):  # bounded: each round assigns one chat or stops
        with transaction.atomic():
            chat = placement.oldest_waiting_chat(department_id)
            if chat is None:
                return assigned
            agent = placement.pick_agent_locked(
                chat.department_id, partial(previous_agent_id, chat)
            )
            if agent is None:
                return assigned
            assignment.give_chat(chat, agent, by=None, from_queue=True)
            assigned.append(chat.pk)
    return assigned


def drain_for(departments: Iterable[int | None]) -> list[int]:
    assigned: list[int] = []
    for department_id in departments:
        assigned += drain_queue(department_id)
    return assigned


def drain_after_commit(departments: Iterable[int | None]) -> None:
    wanted = list(departments)
    if wanted:
        transaction.on_commit(lambda: drain_for(wanted))


def agent_became_available(*, user: User) -> None:
    """The agent can take chats again (presence available, online, capacity raised, or a
    chat of theirs closed): hand them waiting chats from their departments' queues."""
    if user.role == Role.AGENT:
        drain_for(departments_of(user))


def agent_became_unavailable(*, user: User) -> None:
    """The agent went offline (logged out): their open live chats go back to the queue
    and are offered to others."""
    drain_after_commit(assignment.return_to_queue(agent=user))


def agent_lost_connection(*, user: User) -> None:
    """The agent's last connection has been gone past the grace period: their open live
    chats go back to the queue and are offered to others, and the agent is told which."""
    drain_after_commit(assignment.return_to_queue(agent=user, disconnected=True))


def reassign_unanswered() -> list[int]:
    """Live chats whose agent has not answered the first message within
    ``CHATDESK_UNANSWERED_REASSIGN`` seconds go to another available agent (off when 0).
    Returns the ids moved."""
    seconds = float(settings.CHATDESK_UNANSWERED_REASSIGN)
    if seconds <= 0:
        return []
    cutoff = clock.now() - timedelta(seconds=seconds)
    stale = Chat.objects.filter(
        kind=ChatKind.CHAT,
        status=ChatStatus.OPEN,
        agent__isnull=False,
        first_response_at__isnull=True,
        assigned_at__lt=cutoff,
    ).order_by("assigned_at", "pk")
    moved: list[int] = []
    for chat_id in list(stale.values_list("pk", flat=True)[:200]):
        with transaction.atomic():
            chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
            if (
                chat is None
                or chat.status != ChatStatus.OPEN
                or chat.agent_id is None
                or chat.first_response_at is not None
                or chat.assigned_at is None
                or chat.assigned_at >= cutoff
            ):
                continue
            agent = placement.pick_agent_locked(chat.department_id, exclude=chat.agent_id)
            if agent is None:
                continue  # nobody else can take it: it stays where it is
            previous = chat.agent_id
            assignment.give_chat(
                chat, agent, by=None, kind=EventKind.TRANSFERRED, reason="unanswered"
            )
            assignment.tell_previous_agent(
                chat=chat, agent_id=previous, kind=NotificationKind.UNANSWERED
            )
            moved.append(chat.pk)
    return moved
