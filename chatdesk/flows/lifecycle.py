"""Closing and reopening chats (chats.services.lifecycle), then, after commit, offering
the room a close freed, or the reopened chat, to the queue."""

from __future__ import annotations

from django.db import transaction

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.chats.services import lifecycle
from chatdesk.flows import queues
from chatdesk.routing.queries import departments_of


def _drain_for_agent_after_commit(agent_id: int) -> None:
    def drain() -> None:
        queues.drain_for(departments_of(User.objects.get(pk=agent_id)))

    transaction.on_commit(drain)


def close_chat(*, chat_id: int, by: User) -> Chat:
    """Close a live chat or a ticket: the agent who holds it, or a supervisor."""
    closed = lifecycle.close_chat(chat_id=chat_id, by=by)
    if closed.freed_agent_id is not None:
        _drain_for_agent_after_commit(closed.freed_agent_id)
    return closed.chat


def reopen_chat(*, chat_id: int, by: User) -> Chat:
    """Reopen a closed chat (to its agent, or to the agent reopening it) or ticket; one
    nobody holds waits in its queue."""
    reopened = lifecycle.reopen_chat(chat_id=chat_id, by=by)
    if reopened.waiting:
        queues.drain_after_commit([reopened.chat.department_id])
    return reopened.chat


def close_inactive_chats() -> list[int]:
    """Close live chats with no message for the configured time (closed by the system),
    and offer the freed room to waiting chats. Returns the ids closed."""
    result = lifecycle.close_inactive_chats()
    if result.freed_departments:
        queues.drain_for([*result.freed_departments, None])
    return result.chat_ids
