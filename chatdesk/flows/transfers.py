"""Moving chats between people (chats.services.assignment, with routing choosing who),
then offering the room a transfer freed to the queue after commit."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.chats.services import assignment
from chatdesk.chats.services.assignment import MAX_ACCEPT, MAX_NOTE, Target
from chatdesk.flows import queues
from chatdesk.routing.queries import departments_of

__all__ = ["MAX_ACCEPT", "MAX_NOTE", "Target", "accept_tickets", "assign_chat"]


def assign_chat(*, chat_id: int, target: Target, by: User) -> Chat:
    """Assign or transfer a chat or ticket (see ``chats.services.assignment``); the agent
    it left may take a waiting chat."""
    assigned = assignment.assign_chat(chat_id=chat_id, target=target, by=by)
    if assigned.freed_agent_id is not None:
        queues.drain_after_commit(departments_of(User.objects.get(pk=assigned.freed_agent_id)))
    return assigned.chat


def accept_tickets(
    *, by: User, chat_id: int | None = None, oldest: int | None = None
) -> list[Chat]:
    """An agent takes unassigned tickets of their departments or the desk's queue: one by
    id, or the N oldest."""
    return assignment.accept_tickets(by=by, chat_id=chat_id, oldest=oldest)
