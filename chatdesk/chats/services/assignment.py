"""Giving chats to people and queues: a new chat placed as routing decided, a chat handed
to an agent (routing, a supervisor, a transfer, a ticket accepted), a chat sent back to
its queue. Routing (chatdesk.routing) decides who; this writes the rows, the timeline
events and the live events. Waiting queues are drained by the flows after commit."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from chatdesk.accounts.models import Role, User
from chatdesk.chats import access
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    EventKind,
    Notification,
    NotificationKind,
    TicketState,
)
from chatdesk.chats.queries.workspace import HANDOVER_KINDS
from chatdesk.chats.services import timeline
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict, Forbidden, NotFound
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEventType
from chatdesk.routing import transfers
from chatdesk.routing.models import Department
from chatdesk.routing.rules import Placement, PlacementKind

MAX_NOTE = 1000
MAX_ACCEPT = 100


def give_chat(
    chat: Chat,
    agent: User,
    *,
    by: User | None,
    kind: str = EventKind.ASSIGNED,
    note: str | None = None,
    from_queue: bool = False,
    reason: str | None = None,
) -> Chat:
    """Hand the chat to the agent (a ticket becomes assigned), with its timeline event:
    ``kind`` is assigned, transferred or ticket_accepted."""
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
    if kind == EventKind.TRANSFERRED:
        timeline.record_transferred(
            chat=chat, by=by, agent_id=agent.pk, from_agent_id=previous, note=note, reason=reason
        )
    elif kind == EventKind.TICKET_ACCEPTED:
        assert by is not None
        timeline.record_ticket_accepted(chat=chat, by=by, agent_id=agent.pk, from_agent_id=previous)
    else:
        timeline.record_assigned(
            chat=chat,
            by=by,
            agent_id=agent.pk,
            from_agent_id=previous,
            note=note,
            from_queue=from_queue,
            reason=reason,
        )
    extra: dict[str, object] = {}
    if note is not None:
        extra["note"] = note
    if from_queue:
        extra["from_queue"] = True
    if reason is not None:
        extra["reason"] = reason
    live_events.chat_event(
        LiveEventType.CHAT_ASSIGNED,
        chat,
        {"by_id": by.pk if by else None, "transfer": kind == EventKind.TRANSFERRED, **extra},
        previous_agent_id=previous,
        previous_department_id=was_queue,
    )
    return chat


def place_chat(chat: Chat, placement: Placement) -> Chat:
    """Apply routing's decision for a new chat, in the caller's transaction (which holds
    the chat's row and the chosen agent's)."""
    if placement.kind == PlacementKind.AGENT:
        assert placement.agent is not None
        return give_chat(chat, placement.agent, by=None, reason=placement.reason or None)
    if placement.kind == PlacementKind.QUEUE:
        if chat.queued_at is None:
            chat.queued_at = clock.now()
            chat.save(update_fields=["queued_at"])
        timeline.record_queued(chat=chat, by=None, department_id=chat.department_id)
        return chat
    chat.kind = ChatKind.TICKET
    chat.ticket_state = TicketState.UNASSIGNED
    chat.queued_at = None
    chat.save(update_fields=["kind", "ticket_state", "queued_at"])
    timeline.record_ticketed(chat=chat, by=None, reason=placement.reason)
    return chat


def return_to_queue(*, agent: User, disconnected: bool = False) -> set[int | None]:
    """The agent went offline: their open live chats go back to the queue. Returns the
    departments whose queues then have chats to offer to others. ``disconnected`` (the
    presence sweep, not a sign-out): the agent is told, one notification per chat."""
    departments: set[int | None] = set()
    with transaction.atomic():
        chats = list(
            Chat.objects.select_for_update().filter(
                agent=agent, kind=ChatKind.CHAT, status=ChatStatus.OPEN
            )
        )
        now = clock.now()
        for chat in chats:
            chat.agent = None
            chat.queued_at = now
            chat.save(update_fields=["agent", "queued_at"])
            timeline.record_queued(
                chat=chat, by=None, from_agent_id=agent.pk, reason="agent_offline"
            )
            live_events.chat_event(
                LiveEventType.CHAT_ASSIGNED,
                chat,
                {"by_id": None, "reason": "agent_offline"},
                previous_agent_id=agent.pk,
            )
            if disconnected:
                _notify(chat, agent, NotificationKind.DISCONNECTED)
            departments.add(chat.department_id)
    return departments


@dataclass(frozen=True)
class Target:
    """Where a chat goes. ``seen_agent_id``, when ``checks_seen``, is who the caller saw
    holding the chat (None: nobody) when they chose: if someone else moved it since, the
    assignment is refused with who did (``moved_since``) instead of silently undoing
    their decision."""

    agent_id: int | None = None
    department_id: int | None = None
    note: str = ""
    override_capacity: bool = False
    checks_seen: bool = False
    seen_agent_id: int | None = None


@dataclass(frozen=True)
class Assigned:
    """A chat assigned or transferred; ``freed_agent_id`` is the agent who no longer
    holds it (their room may go to a waiting chat)."""

    chat: Chat
    freed_agent_id: int | None = None


def tell_previous_agent(*, chat: Chat, agent_id: int, kind: str) -> None:
    """A sweep handed the chat on from this agent: they are told which chat, and ``kind``
    says why. In the caller's transaction."""
    agent = User.objects.filter(pk=agent_id).first()
    if agent is not None:
        _notify(chat, agent, kind)


def _notify(chat: Chat, agent: User, kind: str, *, by: User | None = None, note: str = "") -> None:
    notification = Notification.objects.create(
        recipient=agent, kind=kind, chat=chat, actor=by, note=note, created_at=clock.now()
    )
    live_events.notification_created(notification)


def _notify_handover(
    chat: Chat, *, kind: str, to: User, previous: int | None, by: User, note: str
) -> None:
    """Tell the receiver (with the note), and the agent who held the chat when someone
    else gave it away (they no longer see it: the bell says where it went)."""
    _notify(chat, to, kind, by=by, note=note)
    if previous is not None and previous not in (by.pk, to.pk):
        loser = User.objects.filter(pk=previous).first()
        if loser is not None:
            _notify(chat, loser, NotificationKind.REASSIGNED, by=by, note=note)


def moved_since(chat: Chat) -> Conflict:
    """The refusal for an assignment decided on an older view of ``chat``: who holds it
    now, and who gave it to them (its latest handover on the timeline)."""
    what = "chat" if chat.kind == ChatKind.CHAT else "ticket"
    holder = chat.agent
    if holder is None:
        return Conflict(f"This {what} went back to the queue a moment ago.")
    last = (
        ChatEvent.objects.filter(chat=chat, kind__in=HANDOVER_KINDS)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    actor = last.actor if last is not None else None
    if actor is None:
        return Conflict(f"The desk gave this {what} to {holder.name} a moment ago.")
    if actor.pk == holder.pk:
        return Conflict(f"{holder.name} already took this {what}.")
    verb = "transferred" if last is not None and last.kind == EventKind.TRANSFERRED else "assigned"
    return Conflict(f"{actor.name} {verb} it to {holder.name} a moment ago.")


def assign_chat(*, chat_id: int, target: Target, by: User) -> Assigned:
    """Assign or transfer a chat or ticket. Live chats go only to agents who are online and
    available (within capacity unless a supervisor overrides it) or to a department with
    such an agent; tickets only by supervisors, to any active agent.

    The chat's row is locked first, so two assignments of one chat take turns; with
    ``target.checks_seen`` the second finds the holder it was chosen against gone and is
    refused (409) with who took it."""
    if (target.agent_id is None) == (target.department_id is None):
        raise BadInput("Give either agent_id or department_id.")
    note = target.note.strip()
    if len(note) > MAX_NOTE:
        raise BadInput(f"The note can be at most {MAX_NOTE} characters.")
    if target.override_capacity and not by.oversees:
        raise Forbidden("Only supervisors can assign beyond an agent's capacity.")
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        if chat.status == ChatStatus.CLOSED:
            raise Conflict("This chat is closed; reopen it first.")
        if target.checks_seen and chat.agent_id != target.seen_agent_id:
            raise moved_since(chat)
        if chat.kind == ChatKind.TICKET:
            return Assigned(_assign_ticket(chat, target, by, note))
        if not by.oversees and chat.agent_id != by.pk:
            raise Forbidden("Only a supervisor or the agent who holds the chat can transfer it.")
        previous = chat.agent_id
        if target.department_id is not None:
            department = Department.objects.filter(pk=target.department_id).first()
            if department is None:
                raise BadInput(f"No department has the id {target.department_id}.")
            agent = transfers.agent_for_department(department.pk, previous=previous)
            if agent is None:
                raise Conflict(
                    f"No agent in {department.name} is online and available to take this chat."
                )
            chat.department = department
            chat.save(update_fields=["department"])
        else:
            assert target.agent_id is not None
            agent = transfers.checked_agent(
                target.agent_id, previous=previous, override_capacity=target.override_capacity
            )
        kind = EventKind.TRANSFERRED if previous else EventKind.ASSIGNED
        give_chat(chat, agent, by=by, kind=kind, note=note)
        told = NotificationKind.TRANSFERRED if previous else NotificationKind.ASSIGNED
        _notify_handover(chat, kind=told, to=agent, previous=previous, by=by, note=note)
    return Assigned(chat, freed_agent_id=previous)


def _assign_ticket(chat: Chat, target: Target, by: User, note: str) -> Chat:
    if not by.oversees:
        raise Forbidden("Only supervisors assign tickets; agents accept them.")
    agent = transfers.ticket_agent(target.agent_id)
    previous = chat.agent_id
    kind = EventKind.TRANSFERRED if previous else EventKind.ASSIGNED
    give_chat(chat, agent, by=by, kind=kind, note=note)
    _notify_handover(
        chat, kind=NotificationKind.ASSIGNED, to=agent, previous=previous, by=by, note=note
    )
    return chat


def accept_tickets(
    *, by: User, chat_id: int | None = None, oldest: int | None = None
) -> list[Chat]:
    """An agent takes unassigned tickets of their departments or of the desk's queue (no
    department): one by id, or the N oldest.
    Tickets claimed by someone else a moment earlier are skipped, never taken twice."""
    if by.role != Role.AGENT:
        raise Forbidden("Only agents accept tickets; supervisors assign them.")
    if (chat_id is None) == (oldest is None):
        raise BadInput("Accept one ticket by id, or the N oldest.")
    if oldest is not None and not 1 <= oldest <= MAX_ACCEPT:
        raise BadInput(f"Accept between 1 and {MAX_ACCEPT} tickets at once.")
    with transaction.atomic():
        # The queues the agent serves: their departments' and the desk's.
        open_tickets = Chat.objects.filter(
            Q(department__in=by.departments.all()) | Q(department__isnull=True),
            kind=ChatKind.TICKET,
            ticket_state=TicketState.UNASSIGNED,
        )
        if chat_id is not None:
            ticket = open_tickets.select_for_update().filter(pk=chat_id).first()
            if ticket is None:
                if access.visible_chats(by).filter(pk=chat_id).exists():
                    raise Conflict("This ticket is no longer unassigned.")
                raise NotFound("No chat with that id.")
            tickets = [ticket]
        else:
            tickets = list(
                open_tickets.select_for_update(skip_locked=True).order_by("created_at", "pk")[
                    : oldest or 1
                ]
            )
        for ticket in tickets:
            give_chat(ticket, by, by=by, kind=EventKind.TICKET_ACCEPTED)
    return tickets
