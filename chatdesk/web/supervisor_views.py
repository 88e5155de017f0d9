"""The supervisor console: the page, the lists that keep it live (tabs, agents, ticket
states, the selected agent's summary) and the ticket actions. The assign dialog lives in
``supervisor_assign``.

The console's whole state is in its query string (``tab``, ``agent``, ``state``, ``chat``):
the page renders it, the lists fragment reads the same parameters, and supervisor.js asks
for the lists with the page's current query string, so a live refresh keeps the selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chatdesk.accounts.models import User
from chatdesk.accounts.queries import with_online
from chatdesk.chats import queries as chat_queries
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, TicketState
from chatdesk.core import clock
from chatdesk.core.errors import DeskError
from chatdesk.flows import lifecycle
from chatdesk.web.views import (
    SUPERVISORS_ONLY,
    TAB_LIST_LIMIT,
    ListTime,
    chat_route,
    list_time,
    oversees,
    preview,
    read_lists,
    role_required,
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
class AgentSummary:
    """One agent at a glance: load, presence and today's figures."""

    agent: User
    online: bool
    open_chats: int
    tickets: int
    closed_today: int
    first_responses_today: int
    average_first_response: timedelta | None

    @property
    def average_first_response_text(self) -> str:
        return duration_text(self.average_first_response)


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


def console_rows(chats: list[Chat]) -> list[ConsoleRow]:
    panel, assign = chat_route("chat-panel"), chat_route("chat-assign")
    return [
        ConsoleRow(
            chat=chat,
            pk=str(chat.pk),
            who=chat.contact.name or chat.contact.phone,
            panel_url=panel(chat.pk),
            assign_url=assign(chat.pk),
            when=list_time(chat.last_message_at or chat.created_at),
            preview=preview(getattr(chat, "last_text", None)),
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


def start_of_today() -> datetime:
    """Midnight in the desk's time zone: what "today" means in the summary."""
    local = timezone.localtime(clock.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def agent_summary(agent_id: int) -> AgentSummary | None:
    """An agent's open chats and tickets, presence and today's closes and first responses,
    in three queries."""
    agent = with_online(User.objects.filter(pk=agent_id)).first()
    if agent is None:
        return None
    today = start_of_today()
    counts = Chat.objects.filter(agent_id=agent_id).aggregate(
        open_chats=Count("id", filter=Q(kind=ChatKind.CHAT, status=ChatStatus.OPEN)),
        tickets=Count("id", filter=Q(kind=ChatKind.TICKET, status=ChatStatus.OPEN)),
        closed_today=Count(
            "id",
            filter=Q(kind=ChatKind.CHAT, status=ChatStatus.CLOSED, closed_at__gte=today),
        ),
    )
    # How long the contact waited for the agent's first reply, from when the chat reached
    # the agent (or began, for one assigned at once).
    answered = Chat.objects.filter(agent_id=agent_id, first_response_at__gte=today).values_list(
        "first_response_at", "assigned_at", "created_at"
    )
    waits = [first - (assigned or created) for first, assigned, created in answered if first]
    average = sum(waits, timedelta()) / len(waits) if waits else None
    return AgentSummary(
        agent=agent,
        online=bool(getattr(agent, "is_online", False)),
        open_chats=int(counts["open_chats"] or 0),
        tickets=int(counts["tickets"] or 0),
        closed_today=int(counts["closed_today"] or 0),
        first_responses_today=len(waits),
        average_first_response=average,
    )


def _ticket_counts(selection: Selection) -> dict[str, int]:
    return chat_queries.ticket_state_counts(agent_id=selection.agent, no_agent=selection.no_agent)


# What a row shows (_supervisor_row.html), and nothing more: a page of rows costs less to
# read and to turn into objects without every column of four tables.
_ROW_FIELDS = (
    *("kind", "status", "ticket_state", "closed_by", "last_message_at", "created_at"),
    *("contact__name", "contact__phone", "channel__kind"),
    *("agent__display_name", "agent__first_name", "agent__last_name", "agent__username"),
)


def _listed(selection: Selection) -> QuerySet[Chat]:
    chats = (
        chat_queries.chats_in_tab(selection.tab)
        .select_related(None)
        .select_related("contact", "channel", "agent")
        .only(*_ROW_FIELDS)
    )
    if selection.agent is not None:
        chats = chats.filter(agent_id=selection.agent)
    elif selection.no_agent:
        chats = chats.filter(agent__isnull=True)
    if selection.state:
        chats = chats.filter(ticket_state=selection.state)
    if selection.tab == "closed" or selection.state == TicketState.CLOSED:
        # What has ended lists the most recently closed first, as the API's Closed tab
        # does: read from the top of an index on the close time, where the latest message
        # would mean sorting every chat the desk has ever closed.
        chats = chats.order_by("-closed_at", "-id")
    return chats


def console_context(selection: Selection) -> dict[str, Any]:
    """Everything the lists fragment shows. On the Chats tab with nobody selected that is
    three queries: the list (with the seq), the tab totals and the per-agent counts."""
    chats, seq = read_lists(_listed(selection), TAB_LIST_LIMIT)
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
        "agent_summary": agent_summary(selection.agent) if selection.agent is not None else None,
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


def _console(request: HttpRequest, chat: int | None = None) -> HttpResponse:
    selection = Selection.from_query(request.GET, chat=chat)
    context = console_context(selection)
    # The lists fragment's URL as the page renders it names the tab; supervisor.js asks
    # with the page's whole current query string (agent, ticket state, chat) instead.
    context["first_lists_url"] = reverse("supervisor-lists") + "?tab=" + selection.tab
    context["panel_chat"] = (
        selection.chat
        if selection.chat and Chat.objects.filter(pk=selection.chat).exists()
        else None
    )
    return render(request, "web/supervisor.html", context)


@require_GET
@role_required(oversees, SUPERVISORS_ONLY)
def supervisor_home(request: HttpRequest) -> HttpResponse:
    return _console(request)


@require_GET
@role_required(oversees, SUPERVISORS_ONLY)
def supervisor_chat(request: HttpRequest, chat_id: int) -> HttpResponse:
    """One chat's details inside the console (the bookmarkable form of ``?chat=``)."""
    return _console(request, chat=chat_id)


@never_cache
@require_GET
@role_required(oversees, SUPERVISORS_ONLY)
def supervisor_lists(request: HttpRequest) -> HttpResponse:
    """The tabs, agents, list and summary alone, for htmx to swap in when they change."""
    selection = Selection.from_query(request.GET)
    return render(request, "web/_supervisor_lists.html", console_context(selection))


# --- Ticket actions ------------------------------------------------------------------------

_ACTIONS = {"close": lifecycle.close_chat, "reopen": lifecycle.reopen_chat}
_DONE = {"close": "Closed", "reopen": "Reopened"}


@dataclass(frozen=True)
class Refusal:
    chat_id: int
    name: str
    sentence: str


def _names(ids: list[int]) -> dict[int, str]:
    rows = Chat.objects.filter(pk__in=ids).values_list("pk", "contact__name", "contact__phone")
    return {pk: name or phone for pk, name, phone in rows}


@require_POST
@role_required(oversees, SUPERVISORS_ONLY)
def ticket_action(request: HttpRequest) -> HttpResponse:
    """Close or reopen one ticket (``do=close:ID``) or the selected ones
    (``do=close`` with ``chat=ID`` for each): each through its service, each refusal kept
    as its sentence."""
    user = request.user
    assert isinstance(user, User)
    action, _, one = request.POST.get("do", "").partition(":")
    if one:
        ids = [int(one)] if one.isdigit() else []
    else:
        ids = sorted({int(v) for v in request.POST.getlist("chat") if v.isdigit()})
    done: list[int] = []
    refusals: list[Refusal] = []
    message = ""
    if action not in _ACTIONS:
        message = "Choose Close or Open."
    elif not ids:
        message = "Select at least one ticket first."
    else:
        names = _names(ids)
        for chat_id in ids:
            try:
                _ACTIONS[action](chat_id=chat_id, by=user)
            except DeskError as refusal:
                name = names.get(chat_id, f"#{chat_id}")
                refusals.append(Refusal(chat_id, name, refusal.detail))
            else:
                done.append(chat_id)
    if request.headers.get("HX-Request") != "true":
        back = request.POST.get("back", "")
        return HttpResponseRedirect(reverse("supervisor-home") + "?" + back.lstrip("?"))
    response = render(
        request,
        "web/_supervisor_status.html",
        {
            "message": message,
            "done": len(done),
            "verb": _DONE.get(action, ""),
            "refusals": refusals,
        },
    )
    if done:
        response["HX-Trigger"] = "desk:lists"
    return response
