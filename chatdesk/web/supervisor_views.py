"""The supervisor console: the page and the fragments that keep it live."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chatdesk.chats import queries as chat_queries
from chatdesk.web.views import (
    SUPERVISORS_ONLY,
    TAB_LIST_LIMIT,
    oversees,
    read_lists,
    role_required,
)


def _supervisor_lists(request: HttpRequest) -> dict[str, Any]:
    tab = request.GET.get("tab", "chats")
    if tab not in chat_queries.TABS:
        tab = "chats"
    chats, seq = read_lists(chat_queries.chats_in_tab(tab), TAB_LIST_LIMIT)
    totals = chat_queries.tab_totals()
    return {
        "live_seq": seq,
        "tab": tab,
        "tabs": [(name, name.title(), totals[name]) for name in chat_queries.TABS],
        "summary": chat_queries.tab_summary(tab),
        "chats": chats,
        "list_limit": TAB_LIST_LIMIT,
    }


@require_GET
@role_required(oversees, SUPERVISORS_ONLY)
def supervisor_home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/supervisor.html", _supervisor_lists(request))


@never_cache
@require_GET
@role_required(oversees, SUPERVISORS_ONLY)
def supervisor_lists(request: HttpRequest) -> HttpResponse:
    """One tab's counts and list alone, for htmx to swap in when they change."""
    return render(request, "web/_supervisor_lists.html", _supervisor_lists(request))
