"""Pages: thin views that read through queries and render templates."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from chatdesk.accounts.models import User
from chatdesk.chats import queries as chat_queries

View = Callable[..., HttpResponse]

# How many chats a tab lists on the page; the counts above it cover them all.
TAB_LIST_LIMIT = 50


def forbidden(request: HttpRequest, sentence: str) -> HttpResponse:
    """The 403 page: one sentence on why, and the way back to the user's own home."""
    return render(request, "web/403.html", {"sentence": sentence}, status=403)


def role_required(allowed: Callable[[User], bool], sentence: str) -> Callable[[View], View]:
    """Anonymous visitors go to the login page; signed-in users of another role get a 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            assert isinstance(user, User)
            if not allowed(user):
                return forbidden(request, sentence)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def home_url(user: User) -> str:
    """Where each role starts: admins in set-up, supervisors in the console, agents at work."""
    if user.is_admin:
        return "/setup/"
    if user.oversees:
        return "/supervisor/"
    return "/agent/"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    assert isinstance(user, User)
    return redirect(home_url(user))


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST signs out; a GET (a bookmark, a typed URL) shows a small form to confirm."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(settings.LOGIN_URL)
        return render(request, "web/logout.html")


@require_GET
@role_required(
    lambda user: user.is_agent and not user.is_admin,
    "This is the agents' workspace; supervisors and admins work in the supervisor console.",
)
def agent_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    chats = list(chat_queries.open_chats_of(user))
    return render(
        request,
        "web/agent.html",
        {
            "live_chats": [c for c in chats if c.kind == "chat"],
            "tickets": [c for c in chats if c.kind == "ticket"],
        },
    )


@require_GET
@role_required(
    lambda user: user.oversees,
    "Only supervisors and admins can open the supervisor console.",
)
def supervisor_home(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "chats")
    if tab not in chat_queries.TABS:
        tab = "chats"
    totals = chat_queries.tab_totals()
    return render(
        request,
        "web/supervisor.html",
        {
            "tab": tab,
            "tabs": [(name, name.title(), totals[name]) for name in chat_queries.TABS],
            "summary": chat_queries.tab_summary(tab),
            "chats": chat_queries.chats_in_tab(tab)[:TAB_LIST_LIMIT],
            "list_limit": TAB_LIST_LIMIT,
        },
    )
