"""The agent workspace: the page and the fragments that keep it live."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chatdesk.accounts.models import User
from chatdesk.chats import queries as chat_queries
from chatdesk.web.views import AGENT_ONLY, is_agent, read_lists, role_required


def _agent_lists(user: User) -> dict[str, Any]:
    chats, seq = read_lists(chat_queries.open_chats_of(user))
    return {
        "live_seq": seq,
        "live_chats": [c for c in chats if c.kind == "chat"],
        "tickets": [c for c in chats if c.kind == "ticket"],
    }


@require_GET
@role_required(is_agent, AGENT_ONLY)
def agent_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    return render(request, "web/agent.html", _agent_lists(user))


@never_cache
@require_GET
@role_required(is_agent, AGENT_ONLY)
def agent_lists(request: HttpRequest) -> HttpResponse:
    """The agent's lists alone, for htmx to swap in when they change."""
    user = request.user
    assert isinstance(user, User)
    return render(request, "web/_agent_lists.html", _agent_lists(user))
