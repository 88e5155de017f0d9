"""The supervisor console's pages: the console itself, one chat inside it, the lists alone
for htmx, the agents' presence (the team strip), and the ticket actions (close or reopen
one ticket or the selection, through the bulk flow). What the lists show is worked out
in ``supervisor_console``; the assign dialog lives in ``supervisor_assign``.

The console's whole state is in its query string (``tab``, ``agent``, ``state``, ``chat``):
the page renders it, the lists fragment reads the same parameters, and supervisor.js asks
for the lists with the page's current query string, so a live refresh keeps the selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chatdesk.accounts import queries as account_queries
from chatdesk.accounts.models import User
from chatdesk.chats import queries as chat_queries
from chatdesk.core.errors import DeskError
from chatdesk.flows import bulk
from chatdesk.web.supervisor_console import Selection, console_context
from chatdesk.web.views import SUPERVISORS_ONLY, oversees, role_required


def _console(request: HttpRequest, chat: int | None = None) -> HttpResponse:
    selection = Selection.from_query(request.GET, chat=chat)
    context = console_context(selection)
    # The lists fragment's URL as the page renders it names the tab; supervisor.js asks
    # with the page's whole current query string (agent, ticket state, chat) instead.
    context["first_lists_url"] = reverse("supervisor-lists") + "?tab=" + selection.tab
    context["panel_chat"] = (
        selection.chat if selection.chat and chat_queries.chat_exists(selection.chat) else None
    )
    context.update(team_context())
    return render(request, "web/supervisor.html", context)


def team_context() -> dict[str, Any]:
    """Every agent's presence, and how many receive chats, how many are at the desk in
    some way yet do not (Away, or Available without a connection), how many signed out."""
    team = account_queries.team_presence()
    return {
        "team": team,
        "team_receiving": sum(1 for m in team if m.state.receiving),
        "team_not_receiving": sum(1 for m in team if m.state.tone == "warn"),
        "team_signed_out": sum(1 for m in team if m.state.tone == "off"),
    }


@never_cache
@require_GET
@role_required(oversees, SUPERVISORS_ONLY)
def supervisor_team(request: HttpRequest) -> HttpResponse:
    """The agents and their presence alone, for htmx to swap in when a presence changes."""
    return render(request, "web/_supervisor_team.html", team_context())


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

_ACTIONS = {"close": bulk.close_chats, "reopen": bulk.reopen_chats}
_DONE = {"close": "Closed", "reopen": "Reopened"}


@dataclass(frozen=True)
class Refusal:
    """A chat the service refused, named as the console lists it, with the sentence."""

    chat_id: int
    name: str
    sentence: str


def refusals_named(refused: list[bulk.Refusal]) -> list[Refusal]:
    names = chat_queries.contact_names([r.chat_id for r in refused])
    return [Refusal(r.chat_id, names.get(r.chat_id, f"#{r.chat_id}"), r.sentence) for r in refused]


@require_POST
@role_required(oversees, SUPERVISORS_ONLY)
def ticket_action(request: HttpRequest) -> HttpResponse:
    """Close or reopen one ticket (``do=close:ID``) or the selected ones
    (``do=close`` with ``chat=ID`` for each): one bulk flow, each chat through its
    service, each refusal kept as its sentence."""
    user = request.user
    assert isinstance(user, User)
    action, _, one = request.POST.get("do", "").partition(":")
    if one:
        ids = [int(one)] if one.isdigit() else []
    else:
        ids = [int(v) for v in request.POST.getlist("chat") if v.isdigit()]
    done = 0
    refusals: list[Refusal] = []
    message = ""
    if action not in _ACTIONS:
        message = "Choose Close or Open."
    elif not ids:
        message = "Select at least one ticket first."
    else:
        try:
            outcome = _ACTIONS[action](chat_ids=ids, by=user)
        except DeskError as refusal:
            message = refusal.detail
        else:
            done = len(outcome.done)
            refusals = refusals_named(outcome.refused)
    if request.headers.get("HX-Request") != "true":
        back = request.POST.get("back", "")
        return HttpResponseRedirect(reverse("supervisor-home") + "?" + back.lstrip("?"))
    response = render(
        request,
        "web/_supervisor_status.html",
        {
            "message": message,
            "done": done,
            "verb": _DONE.get(action, ""),
            "refusals": refusals,
        },
    )
    if done:
        response["HX-Trigger"] = "desk:lists"
    return response
