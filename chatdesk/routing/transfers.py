"""Who a transfer may go to: the agent a department transfer picks, and the checks on an
agent named by hand. Decisions only; chats.services.assignment writes the move."""

from __future__ import annotations

from chatdesk.accounts.models import Role, User
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.routing.placement import pick_agent_locked
from chatdesk.routing.queries import agents_online, agents_who_can_take_a_chat


def agent_for_department(department_id: int, *, previous: int | None) -> User | None:
    """The agent who takes a chat transferred to the department (never the one who holds
    it now); None when nobody there can take it."""
    agent = pick_agent_locked(department_id)
    if agent is not None and agent.pk == previous:
        agent = agents_who_can_take_a_chat(department_id).exclude(pk=previous).first()
    return agent


def checked_agent(agent_id: int, *, previous: int | None, override_capacity: bool) -> User:
    """The agent named for a live chat, locked, once they can take it: active, online and
    available, and below their capacity unless a supervisor overrides it."""
    if agent_id == previous:
        raise Conflict("The chat is already with that agent.")
    agent = User.objects.select_for_update().filter(pk=agent_id, is_active=True).first()
    if agent is None or agent.role != Role.AGENT:
        raise BadInput(f"No active agent has the id {agent_id}.")
    if not agents_online(None).filter(pk=agent.pk).exists():
        raise Conflict(f"{agent.name} is not online and available.")
    if not override_capacity and not agents_who_can_take_a_chat(None).filter(pk=agent.pk).exists():
        raise Conflict(f"{agent.name} is at capacity ({agent.capacity} open chats).")
    return agent


def ticket_agent(agent_id: int | None) -> User:
    """The agent a supervisor assigns a ticket to: any active agent."""
    if agent_id is None:
        raise BadInput("A ticket is assigned to an agent: give agent_id.")
    agent = User.objects.filter(pk=agent_id, is_active=True, role=Role.AGENT).first()
    if agent is None:
        raise BadInput(f"No active agent has the id {agent_id}.")
    return agent
