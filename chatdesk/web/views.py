"""What every page shares: the role checks and the 403 page, sign-in and sign-out, each
role's home, and how list rows write links, times and previews."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from chatdesk.accounts.models import User
from chatdesk.flows import presence as presence_flow
from chatdesk.web.times import ShownTime, shown_time

View = Callable[..., HttpResponse]

# How many chats a tab lists on the page; the counts above it cover them all.
TAB_LIST_LIMIT = 50


def forbidden(request: HttpRequest, sentence: str) -> HttpResponse:
    """The 403 page: one sentence on why, and the way back to the user's own home."""
    return render(request, "web/403.html", {"sentence": sentence}, status=403)


def login_url_back_to(request: HttpRequest) -> str:
    """The login page, asked to come back to the page an htmx request was made from (its
    path on this site: a session that ended mid-chat returns to that chat)."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    path = current.path
    if current.query:
        path = f"{path}?{current.query}"
    if not path.startswith("/") or path.startswith("//") or path.startswith(settings.LOGIN_URL):
        return settings.LOGIN_URL
    return f"{settings.LOGIN_URL}?{urlencode({'next': path})}"


def role_required(allowed: Callable[[User], bool], sentence: str) -> Callable[[View], View]:
    """Anonymous visitors go to the login page; signed-in users of another role get a 403.

    A fragment fetched by htmx would swap the login form into the page, so htmx is told to
    send the whole page there instead."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                if request.headers.get("HX-Request") == "true":
                    return HttpResponseClientRedirect(login_url_back_to(request))
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

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """Signed in: an agent comes back Available or Away as they last chose (signing
        out made them offline), so the workspace never opens in a state that is neither."""
        response = super().form_valid(form)
        user = form.get_user()
        if isinstance(user, User):
            presence_flow.signed_in(user=user)
        return response


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a sign-in from a username and address locked out for too many
    failures: the sign-in form again, saying why and for how long, with 429. The same for
    a username that does not exist, so the answer tells nothing about who has an account."""
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    sentence = (
        f"Too many failed sign-ins for this username from your address. Wait {minutes} "
        "minutes and try again, or ask a desk admin to unlock the account: on the set-up "
        "pages, Users → your username → Unlock sign-in."
    )
    username = request.POST.get("username", "") if request.method == "POST" else ""
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "web/login.html",
        {"form": form, "alert": sentence, "next": request.POST.get("next", "")},
        status=429,
    )


class LogoutView(auth_views.LogoutView):
    """POST signs out; a GET (a bookmark, a typed URL) shows a small form to confirm."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(settings.LOGIN_URL)
        return render(request, "web/logout.html")


# --- Rows of the lists ---------------------------------------------------------------------
#
# A list renders tens of rows, each with the same few links, times and previews. In the
# template engine a {% url %} or a |date costs tens of microseconds each, which across a
# page of rows is most of its rendering: the rows get them ready-made instead, each route
# reversed once per list and each time formatted once, to the same text.

# A chat id no desk reaches, to find where a route puts the id.
_ID_MARK = 987_654_321_987_654_321


def chat_route(name: str) -> Callable[[int], str]:
    """The URL of route ``name`` (which takes ``chat_id``) for any chat, reversed once."""
    prefix, _, suffix = reverse(name, kwargs={"chat_id": _ID_MARK}).partition(str(_ID_MARK))
    return lambda chat_id: f"{prefix}{chat_id}{suffix}"


# A time as the lists show it (chatdesk.web.times): formatted once per row, in Python.
ListTime = ShownTime


def list_time(value: datetime) -> ListTime:
    return shown_time(value)


# How much of the latest message a row shows (the templates escape it).
PREVIEW_CHARS = 140


def preview_who(chat: Any, viewer: User | None) -> str:
    """Whose the latest message of a listed chat is (see ``read_lists``): "You" only for
    the viewer's own, else the author's name; "Desk" for an automatic reply; "Customer"
    for the contact's."""
    if getattr(chat, "last_direction", None) != "out":
        return "Customer"
    author_id = getattr(chat, "last_author_id", None)
    if author_id is None:
        return "Desk"
    if viewer is not None and author_id == viewer.pk:
        return "You"
    return str(getattr(chat, "last_author_name", "") or "Desk")


def preview(text: str | None) -> str:
    """The latest message's text cut as ``|truncatechars`` cuts it. Most texts are short
    enough already: those only get the normalization it would give them."""
    if not text:
        return ""
    if len(text) <= PREVIEW_CHARS:
        return unicodedata.normalize("NFC", text)
    return Truncator(text).chars(PREVIEW_CHARS)


AGENT_ONLY = "This is the agents' workspace; supervisors and admins work in the supervisor console."
SUPERVISORS_ONLY = "Only supervisors and admins can open the supervisor console."


def is_agent(user: User) -> bool:
    return user.is_agent and not user.is_admin


def oversees(user: User) -> bool:
    return user.oversees
