"""Reads for the supervisor's console: the tabs and their counts, per agent and per ticket
state, and the chats a selection lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.models import Chat, ChatCount, ChatKind, ChatStatus, TicketState
from chatdesk.chats.queries.lists import LATEST_FIRST
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


def _display_name(username: str, display_name: str, first: str, last: str) -> str:
    return display_name or f"{first or ''} {last or ''}".strip() or username


def _counts_seen_by(user: User) -> QuerySet[ChatCount]:
    """The counted chats ``user`` may see: ``access.chat_filter``, the rule of
    ``access.visible_chats``, applied to the counts' rows."""
    return ChatCount.objects.filter(access.chat_filter(user))


def tab_summary(tab: str, *, seen_by: User | None = None) -> TabSummary:
    """Per-agent counts of one tab, in a single query; most chats first.

    With ``seen_by``, only the chats that user may see are counted: the whole desk for a
    supervisor, an agent's own chats and their departments' unassigned tickets.

    The counts are the database's own (``ChatCount``), added up per agent, so the query
    reads a few rows per agent however many chats the desk has had; the resulting rows
    are joined to the users after adding up."""
    counts = ChatCount.objects.all() if seen_by is None else _counts_seen_by(seen_by)
    per_agent = (
        counts.filter(tab_filter(tab))
        .order_by()
        .values("agent_id")
        .annotate(total=Sum("n"))
        .exclude(total=0)  # an agent whose chats all moved on, before the rows are folded
    )
    inner, params = per_agent.query.sql_with_params()
    users = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Both pieces are SQL Django compiled, the values passed apart as parameters.
            f"SELECT c.agent_id, c.total, u.username, u.display_name, u.first_name, "  # noqa: S608
            f"u.last_name FROM ({inner}) c LEFT OUTER JOIN {users} u ON u.id = c.agent_id",
            params,
        )
        rows = cursor.fetchall()
    agents: list[AgentCount] = []
    unassigned = 0
    for agent_id, count, *names in rows:
        if agent_id is None:
            unassigned += int(count)
        else:
            agents.append(AgentCount(agent_id, _display_name(*names), int(count)))
    agents.sort(key=lambda a: (-a.count, a.display_name.casefold(), a.agent_id))
    total = unassigned + sum(a.count for a in agents)
    return TabSummary(tab=tab, total=total, agents=agents, unassigned=unassigned)


def tab_totals() -> dict[str, int]:
    """How many chats each tab holds, in one query: ``{"chats": 3, "closed": 10, ...}``,
    added up from the database's own counts (a few rows per agent)."""
    totals = ChatCount.objects.aggregate(
        **{tab: Sum("n", filter=condition) for tab, condition in _TAB_FILTERS.items()}
    )
    return {tab: int(totals[tab] or 0) for tab in TABS}


def ticket_state_counts(*, agent_id: int | None = None, no_agent: bool = False) -> dict[str, int]:
    """How many tickets are in each state, of one agent's, of nobody's or of all, in one
    query from the database's own counts: ``{"unassigned": 2, "assigned": 5, ...}``."""
    counts = ChatCount.objects.filter(kind=ChatKind.TICKET)
    if agent_id is not None:
        counts = counts.filter(agent_id=agent_id)
    elif no_agent:
        counts = counts.filter(agent__isnull=True)
    totals = counts.aggregate(
        **{state: Sum("n", filter=Q(ticket_state=state)) for state in TicketState.values}
    )
    return {state: int(totals[state] or 0) for state in TicketState.values}


def chats_in_tab(tab: str) -> QuerySet[Chat]:
    """A tab's chats, newest activity first, with what a list shows already joined."""
    return (
        Chat.objects.filter(tab_filter(tab))
        .select_related("contact", "agent", "channel", "department")
        .order_by(LATEST_FIRST, "-created_at", "-id")
    )


# What a console row shows (web/_supervisor_row.html), and nothing more: a page of rows
# costs less to read and to turn into objects without every column of four tables.
_ROW_FIELDS = (
    *("kind", "status", "ticket_state", "closed_by", "last_message_at", "created_at"),
    *("contact__name", "contact__phone", "contact__username", "contact__provider_user_id"),
    *("contact__visitor_id", "channel__kind"),
    *("agent__display_name", "agent__first_name", "agent__last_name", "agent__username"),
)


def console_chats(
    tab: str, *, agent_id: int | None = None, no_agent: bool = False, ticket_state: str = ""
) -> QuerySet[Chat]:
    """The chats the console lists for a selection: a tab, maybe one agent (or nobody's),
    maybe one ticket state; with only what a row shows."""
    chats = (
        chats_in_tab(tab)
        .select_related(None)
        .select_related("contact", "channel", "agent")
        .only(*_ROW_FIELDS)
    )
    if agent_id is not None:
        chats = chats.filter(agent_id=agent_id)
    elif no_agent:
        chats = chats.filter(agent__isnull=True)
    if ticket_state:
        chats = chats.filter(ticket_state=ticket_state)
    if tab == "closed" or ticket_state == TicketState.CLOSED:
        # What has ended lists the most recently closed first, as the API's Closed tab
        # does: read from the top of an index on the close time, where the latest message
        # would mean sorting every chat the desk has ever closed.
        chats = chats.order_by("-closed_at", "-id")
    return chats


def chat_exists(chat_id: int) -> bool:
    """A chat with this id exists (a supervisor sees every chat)."""
    return Chat.objects.filter(pk=chat_id).exists()


def chats_with_contacts(chat_ids: list[int]) -> list[Chat]:
    """The chats of a selection, by id, with their contacts: what the bulk dialog names."""
    return list(Chat.objects.filter(pk__in=chat_ids).select_related("contact").order_by("pk"))


def contact_names(chat_ids: list[int]) -> dict[int, str]:
    """Each chat's contact as a list names them: the name, else their address (the phone
    number, else the username or the provider's user id)."""
    chats = Chat.objects.filter(pk__in=chat_ids).select_related("contact")
    return {chat.pk: chat.contact.name or chat.contact.address for chat in chats}
