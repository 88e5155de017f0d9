"""Assigning chats to agents: new chats, the department queues, and agents whose
availability changes. (Placeholder hooks; the rules live here.)"""

from __future__ import annotations

from chatdesk.accounts.models import User


def agent_became_available(*, user: User) -> None:
    """The agent can take chats again (presence available, online, or capacity raised):
    hand them waiting chats from their departments' queues."""


def agent_became_unavailable(*, user: User) -> None:
    """The agent went offline (logged out, or the last connection is gone past the grace
    period): their open chats go back to the queue."""
