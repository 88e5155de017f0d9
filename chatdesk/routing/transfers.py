"""Moving chats between people: a supervisor assigns, an agent transfers the chat they hold,
an agent accepts unassigned tickets of their departments (one, or the N oldest)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from chatdesk.accounts.models import Role, User
from chatdesk.chats import access
from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    EventKind,
    Notification,
    NotificationKind,
    TicketState,
)
from chatdesk.chats.services import timeline
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict, Forbidden, NotFound
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import EventType
from chatdesk.routing import assignment
from chatdesk.routing.models import Department

MAX_NOTE = 1000
MAX_ACCEPT = 100


@dataclass(frozen=True)
class Target:
    agent_id: int | None = None
    department_id: int | None = None
    note: str = ""
    override_capacity: bool = False


def _notify(chat: Chat, agent: User, kind: str) -> None:
    notification = Notification.objects.create(
        recipient=agent, kind=kind, chat=chat, created_at=clock.now()
    )
    live_events.notification_created(notification)


def assign_chat(*, chat_id: int, target: Target, by: User) -> Chat:
    """Assign or transfer a chat or ticket. Live chats go only to agents who are online and
    available (within capacity unless a supervisor overrides it) or to a department with
    such an agent; tickets only by supervisors, to any active agent."""
    if (target.agent_id is None) == (target.department_id is None):
        raise BadInput("Give either agent_id or department_id.")
    note = target.note.strip()
    if len(note) > MAX_NOTE:
        raise BadInput(f"The note can be at most {MAX_NOTE} characters.")
    if target.override_capacity and not by.oversees:
        raise Forbidden("Only supervisors can assign beyond an agent's capacity.")
    freed: set[int | None] = set()
    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        if chat.status == ChatStatus.CLOSED:
            raise Conflict("This chat is closed; reopen it first.")
        if chat.kind == ChatKind.TICKET:
            return _assign_ticket(chat, target, by, note)
        if not by.oversees and chat.agent_id != by.pk:
            raise Forbidden("Only a supervisor or the agent who holds the chat can transfer it.")
        previous = chat.agent_id
        if target.department_id is not None:
            department = Department.objects.filter(pk=target.department_id).first()
            if department is None:
                raise BadInput(f"No department has the id {target.department_id}.")
            agent = assignment.pick_agent_locked(department.pk, prefer=None)
            if agent is not None and agent.pk == previous:
                agent = _other_agent(department.pk, exclude=previous)
            if agent is None:
                raise Conflict(
                    f"No agent in {department.name} is online and available to take this chat."
                )
            chat.department = department
            chat.save(update_fields=["department"])
        else:
            agent = _checked_agent(target, previous)
        kind = EventKind.TRANSFERRED if previous else EventKind.ASSIGNED
        assignment.give_chat(chat, agent, by=by, kind=kind, note=note)
        _notify(
            chat, agent, NotificationKind.TRANSFERRED if previous else NotificationKind.ASSIGNED
        )
        if previous:
            freed.update(_departments(previous))
    if freed:
        transaction.on_commit(lambda: assignment.drain_for(freed))
    return chat


def _departments(agent_id: int) -> list[int | None]:
    user = User.objects.get(pk=agent_id)
    return assignment.departments_of(user)


def _other_agent(department_id: int, *, exclude: int | None) -> User | None:
    candidates = assignment.available_agents(department_id)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude)
    return candidates.first()


def _checked_agent(target: Target, previous: int | None) -> User:
    assert target.agent_id is not None
    if target.agent_id == previous:
        raise Conflict("The chat is already with that agent.")
    agent = User.objects.select_for_update().filter(pk=target.agent_id, is_active=True).first()
    if agent is None or agent.role != Role.AGENT:
        raise BadInput(f"No active agent has the id {target.agent_id}.")
    if not assignment.agents_online(None).filter(pk=agent.pk).exists():
        raise Conflict(f"{agent.name} is not online and available.")
    if (
        not target.override_capacity
        and not assignment.available_agents(None).filter(pk=agent.pk).exists()
    ):
        raise Conflict(f"{agent.name} is at capacity ({agent.capacity} open chats).")
    return agent


def _assign_ticket(chat: Chat, target: Target, by: User, note: str) -> Chat:
    if not by.oversees:
        raise Forbidden("Only supervisors assign tickets; agents accept them.")
    if target.agent_id is None:
        raise BadInput("A ticket is assigned to an agent: give agent_id.")
    agent = User.objects.filter(pk=target.agent_id, is_active=True, role=Role.AGENT).first()
    if agent is None:
        raise BadInput(f"No active agent has the id {target.agent_id}.")
    previous = chat.agent_id
    kind = EventKind.TRANSFERRED if previous else EventKind.ASSIGNED
    assignment.give_chat(chat, agent, by=by, kind=kind, note=note)
    _notify(chat, agent, NotificationKind.ASSIGNED)
    return chat


def accept_tickets(
    *, by: User, chat_id: int | None = None, oldest: int | None = None
) -> list[Chat]:
    """An agent takes unassigned tickets of their departments: one by id, or the N oldest.
    Tickets claimed by someone else a moment earlier are skipped, never taken twice."""
    if by.role != Role.AGENT:
        raise Forbidden("Only agents accept tickets; supervisors assign them.")
    if (chat_id is None) == (oldest is None):
        raise BadInput("Accept one ticket by id, or the N oldest.")
    if oldest is not None and not 1 <= oldest <= MAX_ACCEPT:
        raise BadInput(f"Accept between 1 and {MAX_ACCEPT} tickets at once.")
    with transaction.atomic():
        open_tickets = Chat.objects.filter(
            kind=ChatKind.TICKET,
            ticket_state=TicketState.UNASSIGNED,
            department__in=by.departments.all(),
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
            assignment.give_chat(ticket, by, by=by, kind=EventKind.TICKET_ACCEPTED)
    return tickets


def close_chat(*, chat_id: int, by: User) -> Chat:
    """Close a live chat or a ticket: the agent who holds it, or a supervisor."""
    from chatdesk.chats.models import ClosedBy
    from chatdesk.chats.services.lifecycle import close

    with transaction.atomic():
        chat = access.chat_for(by, chat_id, for_update=True)
        if chat.status == ChatStatus.CLOSED:
            raise Conflict("This chat is already closed.")
        if not by.oversees and chat.agent_id != by.pk:
            raise Forbidden("Only the agent who holds it or a supervisor can close it.")
        closed_by = ClosedBy.SUPERVISOR if by.oversees else ClosedBy.AGENT
        was_agent = chat.agent_id if chat.kind == ChatKind.CHAT else None
        chat = close(chat, closed_by=closed_by, user=by)
    if was_agent is not None:
        transaction.on_commit(lambda: assignment.drain_for(_departments(was_agent)))
    return chat


def reopen_chat(*, chat_id: int, by: User) -> Chat:
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
        timeline.record(chat, EventKind.REOPENED, actor=by)
        live_events.chat_event(
            EventType.CHAT_REOPENED, chat, {"by_id": by.pk}, previous_department_id=was_queue
        )
    if waiting:
        department_id = chat.department_id
        transaction.on_commit(lambda: assignment.drain_for([department_id]))
    return chat
