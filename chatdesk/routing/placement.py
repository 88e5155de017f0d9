"""Routing's decisions, made from what the database says now: the facts are read (the
candidate agents' rows locked, in id order, before their open chats are counted, so two
chats arriving together never overfill an agent) and ``rules`` decides. Nothing here
writes a chat: the caller applies the decision (chats.services.assignment).

Row locks do nothing on SQLite, where the IMMEDIATE transactions serialize writers instead.
"""

from __future__ import annotations

from collections.abc import Callable

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, TicketState
from chatdesk.routing import rules
from chatdesk.routing.hours import is_within_business_hours
from chatdesk.routing.queries import agents_online, agents_who_can_take_a_chat, previous_agent_id
from chatdesk.routing.rules import LiveRoute, Placement


def current_live_route(department_id: int | None) -> LiveRoute:
    """Whether a new chat of the department can be served live now, and why not."""
    return rules.live_route(
        within_hours=is_within_business_hours(department=department_id),
        anyone_online=agents_online(department_id).exists(),
    )


def starts_live_instead_of_ticket(ticket: Chat) -> bool:
    """A message to this open ticket starts a live chat instead (see ``rules``)."""
    if ticket.ticket_state != TicketState.UNASSIGNED:
        return False
    return rules.starts_live_instead_of_ticket(
        ticket_unassigned=True, route=current_live_route(ticket.department_id)
    )


def ranked_locked(department_id: int | None, candidate_ids: list[int]) -> list[User]:
    """Those of the candidates who can take a chat of the department now, best first:
    their rows locked (in id order), then their open chats counted under the lock."""
    if not candidate_ids:
        return []
    list(User.objects.select_for_update().filter(pk__in=candidate_ids).order_by("pk"))
    return list(agents_who_can_take_a_chat(department_id).filter(pk__in=candidate_ids))


def choose_locked(
    department_id: int | None,
    candidate_ids: list[int],
    prefer: Callable[[], int | None],
) -> User | None:
    """Among the online candidates, lock their rows and choose with counts read under the
    lock. ``prefer`` is asked only when there is a choice to make."""
    return rules.choose_agent(ranked_locked(department_id, candidate_ids), prefer)


def pick_agent_locked(
    department_id: int | None,
    prefer: Callable[[], int | None] | None = None,
    *,
    exclude: int | None = None,
) -> User | None:
    """The agent to take a chat of the department now (None: nobody can), locked."""
    online = agents_online(department_id)
    if exclude is not None:
        online = online.exclude(pk=exclude)
    return choose_locked(
        department_id, list(online.values_list("pk", flat=True)), prefer or _no_preference
    )


def _no_preference() -> int | None:
    return None


def place_new_chat(chat: Chat, *, reengaged_by_id: int | None = None) -> Placement:
    """Where the open, unassigned chat just started goes. The caller holds the chat's row
    in its own transaction and applies the decision there, with the agent still locked.
    ``reengaged_by_id``: the user whose re-engagement the contact answered with this chat."""
    within_hours = is_within_business_hours(department=chat.department_id)
    candidate_ids: list[int] = []
    if within_hours:
        # The agents online are read once: none is "nobody online", else the candidates.
        candidate_ids = list(agents_online(chat.department_id).values_list("pk", flat=True))
    route = rules.live_route(within_hours=within_hours, anyone_online=bool(candidate_ids))
    agent = None
    reengager = None
    if route.possible:
        ranked = ranked_locked(chat.department_id, candidate_ids)
        reengager = next((a for a in ranked if a.pk == reengaged_by_id), None)
        if reengager is None:
            agent = rules.choose_agent(ranked, lambda: previous_agent_id(chat))
    elif reengaged_by_id is not None and not within_hours:
        # Out of hours, the agent who followed the contact up may still be at the desk.
        reengager = next(iter(ranked_locked(chat.department_id, [reengaged_by_id])), None)
    return rules.place(
        route=route,
        agent=agent,
        reengaged_by=reengager,
        queue_reply=chat.channel.queue_reply,
        out_of_hours_reply=chat.channel.out_of_hours_reply,
        nobody_available_reply=chat.channel.nobody_available_reply,
    )


def oldest_waiting_chat(department_id: int | None) -> Chat | None:
    """The department's oldest chat waiting in the queue, locked; one another worker is
    draining already is skipped."""
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
    return waiting.order_by("queued_at", "pk").first()
