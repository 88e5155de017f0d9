"""Reads about chats: the supervisor's tabs and their counts, an agent's own chats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from django.db.models import Count, F, Q, QuerySet

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus
from chatdesk.core.errors import BadInput

Tab = Literal["chats", "closed", "tickets"]
TABS: tuple[Tab, ...] = get_args(Tab)

# Chats: live chats still open. Closed: live chats that ended. Tickets: every ticket,
# whatever its state (the console splits them into unassigned / assigned / closed).
_TAB_FILTERS: dict[Tab, Q] = {
    "chats": Q(kind=ChatKind.CHAT, status=ChatStatus.OPEN),
    "closed": Q(kind=ChatKind.CHAT, status=ChatStatus.CLOSED),
    "tickets": Q(kind=ChatKind.TICKET),
}


# Chats with no message yet sort last on SQLite and PostgreSQL alike.
_LATEST_FIRST = F("last_message_at").desc(nulls_last=True)


def tab_filter(tab: str) -> Q:
    """The condition that puts a chat in ``tab``; an unknown tab is bad input."""
    try:
        return _TAB_FILTERS[tab]  # type: ignore[index]
    except KeyError:
        raise BadInput(f"Tab must be one of {', '.join(TABS)}; got {tab!r}.") from None


@dataclass(frozen=True)
class AgentCount:
    agent_id: int
    display_name: str
    count: int


@dataclass(frozen=True)
class TabSummary:
    """One tab's chats counted per agent; ``unassigned`` counts those with no agent."""

    tab: str
    total: int
    agents: list[AgentCount]
    unassigned: int


def _display_name(row: dict[str, object]) -> str:
    full = f"{row['agent__first_name'] or ''} {row['agent__last_name'] or ''}".strip()
    return str(row["agent__display_name"] or full or row["agent__username"])


def tab_summary(tab: str) -> TabSummary:
    """Per-agent counts of one tab, in a single aggregate query; most chats first."""
    rows = (
        Chat.objects.filter(tab_filter(tab))
        .values(
            "agent_id",
            "agent__username",
            "agent__display_name",
            "agent__first_name",
            "agent__last_name",
        )
        .annotate(count=Count("id"))
        .order_by()
    )
    agents: list[AgentCount] = []
    unassigned = 0
    for row in rows:
        if row["agent_id"] is None:
            unassigned += row["count"]
        else:
            agents.append(AgentCount(row["agent_id"], _display_name(row), row["count"]))
    agents.sort(key=lambda a: (-a.count, a.display_name.casefold(), a.agent_id))
    total = unassigned + sum(a.count for a in agents)
    return TabSummary(tab=tab, total=total, agents=agents, unassigned=unassigned)


def tab_totals() -> dict[str, int]:
    """How many chats each tab holds, in one query: ``{"chats": 3, "closed": 10, ...}``."""
    counts = Chat.objects.aggregate(
        **{tab: Count("id", filter=condition) for tab, condition in _TAB_FILTERS.items()}
    )
    return {tab: int(counts[tab] or 0) for tab in TABS}


def chats_in_tab(tab: str) -> QuerySet[Chat]:
    """A tab's chats, newest activity first, with what a list shows already joined."""
    return (
        Chat.objects.filter(tab_filter(tab))
        .select_related("contact", "agent", "channel", "department")
        .order_by(_LATEST_FIRST, "-created_at", "-id")
    )


def open_chats_of(agent: User) -> QuerySet[Chat]:
    """The agent's open chats and open tickets, newest activity first."""
    return (
        Chat.objects.filter(agent=agent, status=ChatStatus.OPEN)
        .select_related("contact", "channel", "department")
        .order_by(_LATEST_FIRST, "-created_at", "-id")
    )
