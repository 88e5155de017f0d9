"""Where a new chat goes, decided from facts the caller read: pure functions, no database.

Out of hours, or with nobody available online, a new chat becomes an unassigned ticket;
with agents online but all full, it waits in its department's queue; otherwise it goes to
the best agent who can take it (least loaded, then longest idle), the agent who last
served the contact first when they are among them. A chat the contact started by answering
a re-engagement goes first to the agent who re-engaged them, when they can take it now
(even out of hours: they are at the desk, following up). The decision carries the automatic
reply to send the contact, if any: the channel's out-of-hours reply only out of hours, its
nobody-available reply in hours with nobody to take the chat, its queue reply in a queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from chatdesk.accounts.models import User


@dataclass(frozen=True)
class LiveRoute:
    """Whether a new chat can be served live now, and why not."""

    possible: bool
    reason: str = ""  # "out_of_hours" | "nobody_online"


def live_route(*, within_hours: bool, anyone_online: bool) -> LiveRoute:
    if not within_hours:
        return LiveRoute(False, "out_of_hours")
    if not anyone_online:
        return LiveRoute(False, "nobody_online")
    return LiveRoute(True)


def starts_live_instead_of_ticket(*, ticket_unassigned: bool, route: LiveRoute) -> bool:
    """A message to an unassigned ticket starts a live chat when one could be served now."""
    return ticket_unassigned and route.possible


class PlacementKind(StrEnum):
    AGENT = "agent"
    QUEUE = "queue"
    TICKET = "ticket"


REENGAGEMENT_REPLY = "reengagement_reply"


@dataclass(frozen=True)
class Placement:
    """Where a new chat goes: to ``agent`` (``reason`` "reengagement_reply" when that is the
    agent who re-engaged the contact), into its department's queue, or a ticket (with its
    ``reason``); ``reply`` is the automatic reply to send ("" for none)."""

    kind: PlacementKind
    agent: User | None = None
    reason: str = ""
    reply: str = ""


def choose_agent(ranked: Sequence[User], prefer: Callable[[], int | None]) -> User | None:
    """The agent to take a chat among those who can (best first): the preferred one when
    among them. ``prefer`` is asked only when there is a choice to make."""
    if len(ranked) <= 1:
        return ranked[0] if ranked else None
    preferred = prefer()
    for agent in ranked:
        if agent.pk == preferred:
            return agent
    return ranked[0]


def place(
    *,
    route: LiveRoute,
    agent: User | None,
    queue_reply: str,
    out_of_hours_reply: str,
    nobody_available_reply: str,
    reengaged_by: User | None,
) -> Placement:
    """The placement of a new chat: ``route`` says whether it can be served live,
    ``agent`` is the one chosen among those with room (None: all full), ``reengaged_by``
    the agent whose re-engagement the contact answered, when they can take the chat now."""
    if reengaged_by is not None:
        return Placement(PlacementKind.AGENT, agent=reengaged_by, reason=REENGAGEMENT_REPLY)
    if not route.possible:
        reply = out_of_hours_reply if route.reason == "out_of_hours" else nobody_available_reply
        return Placement(PlacementKind.TICKET, reason=route.reason, reply=reply)
    if agent is not None:
        return Placement(PlacementKind.AGENT, agent=agent)
    return Placement(PlacementKind.QUEUE, reply=queue_reply)
