"""Assigning chats to agents: new chats, the department queues, tickets, transfers, and
agents whose availability changes.

The rule: within the chat's department (any agent when it has none), among agents who are
online, ``available`` and below their capacity, the least loaded first, then the one whose
last assignment is oldest; the agent who last served the contact comes first when they can
take the chat. Out of hours, or with nobody available online, a new chat becomes an
unassigned ticket; with agents online but all full, it waits in its department's queue
(first in, first out) until capacity frees.

Atomicity: a decision locks the candidate agents' rows (``select_for_update``, in id order)
before counting their open chats, so two chats arriving together never overfill an agent.
Row locks do nothing on SQLite, where the IMMEDIATE transactions serialize writers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from chatdesk.accounts.models import Presence, Role, User
from chatdesk.accounts.queries import only_online
from chatdesk.chats import access
from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    ContentType,
    DeliveryStatus,
    Direction,
    EventKind,
    Message,
    TicketState,
)
from chatdesk.chats.services import timeline
from chatdesk.core import clock
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import EventType
from chatdesk.routing.hours import is_within_business_hours

log = logging.getLogger(__name__)


def _open_chat_count() -> Subquery:
    return Subquery(
        Chat.objects.filter(agent=OuterRef("pk"), kind=ChatKind.CHAT, status=ChatStatus.OPEN)
        .order_by()
        .values("agent")
        .annotate(n=Count("pk"))
        .values("n")
    )


def agents_online(department_id: int | None) -> QuerySet[User]:
    """Active agents who chose ``available`` and have a live connection, in the department
    (or anywhere, for a chat with no department)."""
    agents = only_online(
        User.objects.filter(role=Role.AGENT, is_active=True, presence=Presence.AVAILABLE)
    )
    if department_id is not None:
        agents = agents.filter(departments=department_id)
    return agents


def available_agents(department_id: int | None) -> QuerySet[User]:
    """Agents who can take a chat now, best first: least loaded, then longest idle."""
    return (
        agents_online(department_id)
        .annotate(open_chats=Coalesce(_open_chat_count(), Value(0)))
        .filter(open_chats__lt=F("capacity"))
        .order_by("open_chats", F("last_assigned_at").asc(nulls_first=True), "pk")
    )


def _previous_agent_id(chat: Chat) -> int | None:
    earlier = (
        Chat.objects.filter(contact_id=chat.contact_id, channel_id=chat.channel_id)
        .exclude(pk=chat.pk)
        .filter(agent__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("agent_id", flat=True)
        .first()
    )
    return earlier


def pick_agent_locked(
    department_id: int | None,
    prefer: int | Callable[[], int | None] | None,
    *,
    exclude: int | None = None,
) -> User | None:
    """Lock the candidates, then choose among them with counts read under the lock."""
    online = agents_online(department_id)
    if exclude is not None:
        online = online.exclude(pk=exclude)
    return _choose_locked(department_id, list(online.values_list("pk", flat=True)), prefer)


def _choose_locked(
    department_id: int | None,
    candidate_ids: list[int],
    prefer: int | Callable[[], int | None] | None,
) -> User | None:
    """Among the online candidates, lock their rows and choose with counts read under the
    lock. ``prefer`` may be a function, asked only when there is a choice to make."""
    if not candidate_ids:
        return None
    list(User.objects.select_for_update().filter(pk__in=candidate_ids).order_by("pk"))
    ranked = list(available_agents(department_id).filter(pk__in=candidate_ids))
    if len(ranked) <= 1:
        return ranked[0] if ranked else None
    preferred = prefer() if callable(prefer) else prefer
    for agent in ranked:
        if agent.pk == preferred:
            return agent
    return ranked[0]


def give_chat(
    chat: Chat,
    agent: User,
    *,
    by: User | None,
    kind: str = EventKind.ASSIGNED,
    **data: object,
) -> Chat:
    """Hand the chat to the agent (a ticket becomes assigned), with its timeline event."""
    now = clock.now()
    previous = chat.agent_id
    was_queue = access.queue_department(chat)
    chat.agent = agent
    chat.assigned_at = now
    chat.queued_at = None
    fields = ["agent", "assigned_at", "queued_at"]
    if chat.kind == ChatKind.TICKET:
        chat.ticket_state = TicketState.ASSIGNED
        fields.append("ticket_state")
    chat.save(update_fields=fields)
    User.objects.filter(pk=agent.pk).update(last_assigned_at=now)
    timeline.record(chat, kind, actor=by, agent_id=agent.pk, from_agent_id=previous, **data)
    live_events.chat_event(
        EventType.CHAT_ASSIGNED,
        chat,
        {"by_id": by.pk if by else None, "transfer": kind == EventKind.TRANSFERRED, **data},
        previous_agent_id=previous,
        previous_department_id=was_queue,
    )
    return chat


def _auto_reply(chat: Chat, text: str) -> None:
    """One of the channel's automatic replies, sent like any other message."""
    if not text.strip():
        return
    from chatdesk.chats.services.outbound import enqueue_delivery

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
    live_events.message_event(EventType.MESSAGE_CREATED, message)
    transaction.on_commit(lambda: enqueue_delivery(message.pk))


@dataclass(frozen=True)
class LiveRoute:
    """Whether a new chat can be served live now, and why not."""

    possible: bool
    reason: str = ""  # "out_of_hours" | "nobody_online"


def live_route(channel_department_id: int | None) -> LiveRoute:
    if not is_within_business_hours(department=channel_department_id):
        return LiveRoute(False, "out_of_hours")
    if not agents_online(channel_department_id).exists():
        return LiveRoute(False, "nobody_online")
    return LiveRoute(True)


def route_new_chat(*, chat: Chat) -> Chat:
    """Place a chat that just started: to an agent, into the queue, or as a ticket."""
    with transaction.atomic():
        chat = Chat.objects.select_for_update().select_related("channel").get(pk=chat.pk)
        if chat.agent_id is not None or chat.status != ChatStatus.OPEN:
            return chat
        return place_new_chat(chat)


def place_new_chat(chat: Chat) -> Chat:
    """``route_new_chat`` for a caller that holds the open, unassigned chat's row in its
    own transaction (it has just created it)."""
    if not is_within_business_hours(department=chat.department_id):
        return _make_ticket(chat, reason="out_of_hours")
    # The agents online are read once: none is "nobody online", else the candidates.
    candidate_ids = list(agents_online(chat.department_id).values_list("pk", flat=True))
    if not candidate_ids:
        return _make_ticket(chat, reason="nobody_online")
    agent = _choose_locked(chat.department_id, candidate_ids, lambda: _previous_agent_id(chat))
    if agent is not None:
        return give_chat(chat, agent, by=None)
    if chat.queued_at is None:
        chat.queued_at = clock.now()
        chat.save(update_fields=["queued_at"])
    timeline.record(chat, EventKind.QUEUED, department_id=chat.department_id)
    _auto_reply(chat, chat.channel.queue_reply)
    return chat


def _make_ticket(chat: Chat, *, reason: str) -> Chat:
    chat.kind = ChatKind.TICKET
    chat.ticket_state = TicketState.UNASSIGNED
    chat.queued_at = None
    chat.save(update_fields=["kind", "ticket_state", "queued_at"])
    timeline.record(chat, EventKind.TICKETED, reason=reason)
    _auto_reply(chat, chat.channel.out_of_hours_reply)
    return chat


def drain_queue(department_id: int | None) -> list[int]:
    """Hand waiting chats of a department (oldest first) to agents who can take them;
    the ids of the chats assigned."""
    assigned: list[int] = []
    for _ in range(1000):  # bounded: each round assigns one chat or stops
        with transaction.atomic():
            waiting = Chat.objects.select_for_update(skip_locked=True).filter(
                kind=ChatKind.CHAT,
                status=ChatStatus.OPEN,
                agent__isnull=True,
                queued_at__isnull=False,
            )
            waiting = (
                waiting.filter(department_id=department_id)
                if department_id is not None
                else waiting.filter(department__isnull=True)
            )
            chat = waiting.order_by("queued_at", "pk").first()
            if chat is None:
                return assigned
            agent = pick_agent_locked(chat.department_id, partial(_previous_agent_id, chat))
            if agent is None:
                return assigned
            give_chat(chat, agent, by=None, from_queue=True)
            assigned.append(chat.pk)
    return assigned


def departments_of(user: User) -> list[int | None]:
    ids: list[int | None] = list(user.departments.values_list("pk", flat=True))
    return [*ids, None]  # chats with no department may go to any agent


def drain_for(departments: Iterable[int | None]) -> list[int]:
    assigned: list[int] = []
    for department_id in departments:
        assigned += drain_queue(department_id)
    return assigned


def agent_became_available(*, user: User) -> None:
    """The agent can take chats again (presence available, online, or capacity raised):
    hand them waiting chats from their departments' queues."""
    if user.role == Role.AGENT:
        drain_for(departments_of(user))


def agent_became_unavailable(*, user: User) -> None:
    """The agent went offline (logged out, or the last connection is gone past the grace
    period): their open live chats go back to the queue and are offered to others."""
    departments: set[int | None] = set()
    with transaction.atomic():
        chats = list(
            Chat.objects.select_for_update().filter(
                agent=user, kind=ChatKind.CHAT, status=ChatStatus.OPEN
            )
        )
        now = clock.now()
        for chat in chats:
            chat.agent = None
            chat.queued_at = now
            chat.save(update_fields=["agent", "queued_at"])
            timeline.record(chat, EventKind.QUEUED, from_agent_id=user.pk, reason="agent_offline")
            live_events.chat_event(
                EventType.CHAT_ASSIGNED,
                chat,
                {"by_id": None, "reason": "agent_offline"},
                previous_agent_id=user.pk,
            )
            departments.add(chat.department_id)
    if departments:
        transaction.on_commit(lambda: drain_for(departments))


def should_start_live_instead_of_ticket(ticket: Chat) -> bool:
    """A message to an unassigned ticket starts a live chat when one could be served now."""
    return (
        ticket.ticket_state == TicketState.UNASSIGNED and live_route(ticket.department_id).possible
    )


def reassign_unanswered() -> list[int]:
    """Live chats whose agent has not answered the first message within
    ``CHATDESK_UNANSWERED_REASSIGN`` seconds go to another available agent (off when 0).
    Returns the ids moved."""
    from datetime import timedelta

    from django.conf import settings

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
            agent = pick_agent_locked(chat.department_id, None, exclude=chat.agent_id)
            if agent is None:
                continue  # nobody else can take it: it stays where it is
            give_chat(chat, agent, by=None, kind=EventKind.TRANSFERRED, reason="unanswered")
            moved.append(chat.pk)
    return moved
