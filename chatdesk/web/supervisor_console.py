"""The supervisor console's lists, shaped for the page: the selection (tabs, agents, ticket
states) read from the query string, the rows with their links, and the selected agent's
summary. The views are in ``supervisor_views``, the assign dialog in ``supervisor_assign``.

The console's whole state is in its query string (``tab``, ``agent``, ``state``, ``chat``):
the page renders it, the lists fragment reads the same parameters, and supervisor.js asks
for the lists with the page's current query string, so a live refresh keeps the selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse

from chatdesk.accounts import queries as account_queries
from chatdesk.chats import queries as chat_queries
from chatdesk.chats.models import Chat, TicketState
from chatdesk.web.views import (
    TAB_LIST_LIMIT,
    ListTime,
    chat_route,
    list_time,
    preview,
    preview_who,
)

# The "agent" a list is filtered by when it shows the chats nobody holds.
NO_AGENT = "none"
# An agent id no desk reaches, to find where a query string puts the agent.
_AGENT_MARK = 987_654_321_987_654_321
TICKET_STATES: tuple[tuple[str, str], ...] = (
    (TicketState.UNASSIGNED, "Unassigned"),
    (TicketState.ASSIGNED, "Assigned"),
    (TicketState.CLOSED, "Closed"),
)
_STATE_NAMES = {name for name, _ in TICKET_STATES}


@dataclass(frozen=True)
class Selection:
    """What the console shows: a tab, maybe one agent (or "no agent"), a ticket state on
    the Tickets tab, and maybe one chat in the panel."""

    tab: str = "chats"
    agent: int | None = None
    no_agent: bool = False
    state: str = ""
    chat: int | None = None

    @classmethod
    def from_query(cls, query: Any, *, chat: int | None = None) -> Selection:
        tab = query.get("tab", "chats")
        if tab not in chat_queries.TABS:
            tab = "chats"
        agent_text = query.get("agent", "")
        agent = int(agent_text) if agent_text.isdigit() else None
        no_agent = agent_text == NO_AGENT
        state = ""
        if tab == "tickets":
            state = query.get("state", "")
            if state not in _STATE_NAMES:
                # An agent's tickets are assigned ones; nobody's are unassigned.
                state = TicketState.ASSIGNED if agent is not None else TicketState.UNASSIGNED
        if chat is None:
            chat_text = query.get("chat", "")
            chat = int(chat_text) if chat_text.isdigit() else None
        return cls(tab=tab, agent=agent, no_agent=no_agent, state=state, chat=chat)

    def query(self, **changes: Any) -> str:
        """This selection's query string, with ``changes`` (None drops a parameter)."""
        values: dict[str, Any] = {
            "tab": self.tab,
            "agent": NO_AGENT if self.no_agent else self.agent,
            "state": self.state or None,
            "chat": self.chat,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    # Links the templates need, each keeping what the new view still applies to.
    def tab_query(self, tab: str) -> str:
        return self.query(tab=tab, agent=None, state=None)

    def agent_query(self, agent: int | str | None) -> str:
        return self.query(agent=agent, state=None)

    def state_query(self, state: str) -> str:
        return self.query(state=state)

    def chat_query(self, chat: int) -> str:
        return self.query(chat=chat)


@dataclass(frozen=True)
class AgentRow:
    """One agent in the tab's "by agent" list, with the links that select them: the
    console's query string, the lists fragment to fetch and the console URL to show."""

    agent_id: int
    display_name: str
    count: int
    query: str
    current: bool = False
    get_url: str = ""
    push_url: str = ""


@dataclass(frozen=True)
class ConsoleRow:
    """One chat of the list with what its row shows already worked out (see
    ``views.chat_route``): who, the panel and assign links, the time and the preview."""

    chat: Chat
    pk: str  # written out many times a row: as text once, not localized each time
    who: str
    panel_url: str
    assign_url: str
    when: ListTime
    preview: str
    preview_who: str


def console_rows(chats: list[Chat]) -> list[ConsoleRow]:
    panel, assign = chat_route("chat-panel"), chat_route("chat-assign")
    return [
        ConsoleRow(
            chat=chat,
            pk=str(chat.pk),
            who=chat.contact.name or chat.contact.address,
            panel_url=panel(chat.pk),
            assign_url=assign(chat.pk),
            when=list_time(chat.last_message_at or chat.created_at),
            preview=preview(getattr(chat, "last_text", None)),
            # The console names the author (a supervisor's own re-engagement included).
            preview_who=preview_who(chat, None),
        )
        for chat in chats
    ]


def duration_text(value: timedelta | None) -> str:
    """ "45 s", "3 min 20 s", "1 h 5 min"; a dash when there is nothing to average."""
    if value is None:
        return "\N{EN DASH}"
    seconds = max(0, round(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _ticket_counts(selection: Selection) -> dict[str, int]:
    return chat_queries.ticket_state_counts(agent_id=selection.agent, no_agent=selection.no_agent)


def _listed(selection: Selection) -> QuerySet[Chat]:
    return chat_queries.console_chats(
        selection.tab,
        agent_id=selection.agent,
        no_agent=selection.no_agent,
        ticket_state=selection.state,
    )


def console_context(selection: Selection) -> dict[str, Any]:
    """Everything the lists fragment shows. On the Chats tab with nobody selected that is
    three queries: the list (with the seq), the tab totals and the per-agent counts."""
    chats, seq = chat_queries.read_lists(_listed(selection), TAB_LIST_LIMIT)
    console_url = reverse("supervisor-home")
    totals = chat_queries.tab_totals()
    summary = chat_queries.tab_summary(selection.tab)
    agent_name = ""
    if selection.agent is not None:
        agent_name = next(
            (a.display_name for a in summary.agents if a.agent_id == selection.agent), ""
        )
    ticket_counts = _ticket_counts(selection) if selection.tab == "tickets" else {}
    lists_url = reverse("supervisor-lists")
    summary_of_agent = (
        account_queries.agent_summary(selection.agent) if selection.agent is not None else None
    )
    # Every agent's link is this selection's with another agent: built once, filled in per
    # agent (a list of two hundred agents is as long as the list of chats).
    before, _, after = selection.agent_query(_AGENT_MARK).partition(str(_AGENT_MARK))
    agents = []
    for a in summary.agents:
        query = f"{before}{a.agent_id}{after}"
        agents.append(
            AgentRow(
                a.agent_id,
                a.display_name,
                a.count,
                query,
                current=a.agent_id == selection.agent,
                get_url=f"{lists_url}?{query}",
                push_url=f"{console_url}?{query}",
            )
        )
    return {
        "live_seq": seq,
        "sel": selection,
        "tab": selection.tab,
        "tabs": [
            (name, name.title(), totals[name], selection.tab_query(name))
            for name in chat_queries.TABS
        ],
        "summary": summary,
        "agents": agents,
        "unassigned_query": selection.agent_query(NO_AGENT),
        "all_query": selection.agent_query(None),
        "chats": chats,
        "rows": console_rows(chats),
        "console_url": console_url,
        # A row's link to itself in the console: this selection with its chat.
        "open_base": f"{console_url}?{selection.query(chat=None)}&chat=",
        "lists_url": lists_url,
        "action_url": reverse("supervisor-ticket-action"),
        "list_limit": TAB_LIST_LIMIT,
        "listed_total": _listed_total(selection, summary, ticket_counts),
        "agent_summary": summary_of_agent,
        "agent_average": duration_text(
            summary_of_agent.average_first_response if summary_of_agent else None
        ),
        "agent_name": agent_name,
        "ticket_states": [
            (name, label, ticket_counts.get(name, 0), selection.state_query(name))
            for name, label in TICKET_STATES
        ],
        "base_query": selection.query(chat=None),
        "query": selection.query(),
    }


def _listed_total(
    selection: Selection, summary: chat_queries.TabSummary, ticket_counts: dict[str, int]
) -> int:
    if selection.state:
        return ticket_counts.get(selection.state, 0)
    if selection.agent is not None:
        return next((a.count for a in summary.agents if a.agent_id == selection.agent), 0)
    if selection.no_agent:
        return summary.unassigned
    return summary.total
