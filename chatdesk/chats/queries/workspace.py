"""Reads for the agent workspace: the agent's open chats and tickets with their
departments' queue, and since when each contact has waited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Case, F, Func, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.db.models.fields import DateTimeField
from django.db.models.functions import Coalesce, RowNumber

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    Direction,
    EventKind,
    Message,
    TicketState,
)
from chatdesk.chats.queries.lists import LATEST_FIRST, with_unread

_EPOCH = Value(datetime(1970, 1, 1, tzinfo=UTC), output_field=DateTimeField())

# The agent's own replies; the desk's automatic ones (out of hours, queue) answer nothing.
_REPLIES = Message.objects.filter(chat=OuterRef("pk"), direction=Direction.OUT, is_automatic=False)
# The contact's first message after the last reply: the customer has waited since then.
_UNANSWERED = Message.objects.filter(
    chat=OuterRef("pk"),
    direction=Direction.IN,
    created_at__gt=Coalesce(OuterRef("last_reply_at"), _EPOCH),
)

# What moves a chat from one holder to the next, on its timeline.
HANDOVER_KINDS = (
    EventKind.ASSIGNED,
    EventKind.TRANSFERRED,
    EventKind.TICKET_ACCEPTED,
    EventKind.QUEUED,
)

# The queue lists its oldest tickets (those "Accept the oldest" takes) up to this many: a
# department's queue may hold hundreds, and the count above the list says how many.
QUEUE_LIMIT = 50

# Where a ticket stands in the queue, oldest first; the agent's own chats (one partition,
# by their agent) are never cut.
_QUEUE_PLACE = Case(
    When(
        agent__isnull=True,
        then=Window(RowNumber(), partition_by=[F("agent_id")], order_by=[F("created_at"), F("id")]),
    ),
    default=Value(0),
)


def open_chats_of(agent: User) -> QuerySet[Chat]:
    """The agent's open chats and open tickets, newest activity first."""
    return (
        Chat.objects.filter(agent=agent, status=ChatStatus.OPEN)
        .select_related("contact", "channel", "department")
        .order_by(LATEST_FIRST, "-created_at", "-id")
    )


def workspace_chats(agent: User, *, queue_limit: int = QUEUE_LIMIT) -> QuerySet[Chat]:
    """In one query: the agent's open chats and tickets, and the ``queue_limit`` oldest
    unassigned tickets of their departments and of the desk's queue, each with
    ``queue_size`` (how many wait in all); newest activity first, with ``unread``,
    ``last_reply_at`` and ``first_unanswered_at``.

    The rows are picked first, by id, and only those get the per-chat subqueries: a long
    queue is counted, not read message by message."""
    mine = Q(agent=agent, status=ChatStatus.OPEN)
    # Their departments' queues and the desk's (tickets of a channel with no department).
    queue = Q(kind=ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED, status=ChatStatus.OPEN) & (
        Q(department__in=agent.departments.all()) | Q(department__isnull=True)
    )
    listed = (
        Chat.objects.filter(mine | queue)
        .annotate(queue_place=_QUEUE_PLACE)
        .filter(queue_place__lte=queue_limit)
        .values("pk")
    )
    queue_size = Chat.objects.filter(queue).order_by().values(n=Func(F("id"), function="COUNT"))
    chats = (
        Chat.objects.filter(pk__in=listed)
        .select_related("contact", "channel")
        .annotate(queue_size=Subquery(queue_size))
        .annotate(
            last_reply_at=Subquery(_REPLIES.order_by("-created_at", "-id").values("created_at")[:1])
        )
        .annotate(
            first_unanswered_at=Subquery(
                _UNANSWERED.order_by("created_at", "id").values("created_at")[:1]
            )
        )
        .order_by(LATEST_FIRST, "-created_at", "-id")
    )
    return with_unread(chats)


def waiting_since(chat: Chat) -> datetime | None:
    """Since when the contact has waited for the desk (a chat of ``workspace_chats``): their
    first message after the agent's last reply; with no message and no reply yet, since the
    chat came to the agent (or, for a ticket in the queue, since it was opened). None once
    answered."""
    first_unanswered: datetime | None = getattr(chat, "first_unanswered_at", None)
    if first_unanswered is not None:
        return first_unanswered
    if getattr(chat, "last_reply_at", None) is None:
        return chat.assigned_at or chat.created_at
    return None


@dataclass(frozen=True)
class HandedAway:
    """How a chat left an agent: who moved it (None: the desk), to whom (None: its
    queue), and whether it was a transfer."""

    by_id: int | None
    by_name: str
    to_name: str | None
    transferred: bool


def handed_away(agent: User, chat_id: int) -> HandedAway | None:
    """Why ``agent`` no longer holds the chat, if its latest handover took it from them;
    None when it never was theirs (so nothing is told about other people's chats)."""
    last = (
        ChatEvent.objects.filter(chat_id=chat_id, kind__in=HANDOVER_KINDS)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None or last.data.get("from_agent_id") != agent.pk:
        return None
    to_id = last.data.get("agent_id") if last.kind != EventKind.QUEUED else None
    to = User.objects.filter(pk=to_id).first() if isinstance(to_id, int) else None
    return HandedAway(
        by_id=last.actor_id,
        by_name=last.actor.name if last.actor is not None else "",
        to_name=to.name if to is not None else None,
        transferred=last.kind == EventKind.TRANSFERRED,
    )
