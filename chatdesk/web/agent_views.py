"""The agent workspace: the page, its live lists, the presence switch, accepting tickets,
and the head of the chat the agent has open (the chat panel itself is shared, see
panel_views). Views parse, call one service or query, and render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chatdesk.accounts import queries as account_queries
from chatdesk.accounts.models import Presence, User
from chatdesk.chats import access
from chatdesk.chats import queries as chat_queries
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, TicketState
from chatdesk.chats.services.notifications import mark_chat_read
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, DeskError, NotFound
from chatdesk.flows import transfers
from chatdesk.flows.presence import set_presence
from chatdesk.web.views import (
    AGENT_ONLY,
    ListTime,
    chat_route,
    is_agent,
    list_time,
    preview,
    preview_who,
    role_required,
)

agent_only = role_required(is_agent, AGENT_ONLY)

DEFAULT_ACCEPT = 5
GONE = "This chat is no longer yours: it was transferred, or someone else took it."


def waiting_words(since: datetime, now: datetime) -> str:
    """ "waiting 3 min": the server is the one writer of these words; the lists are read
    again every minute (``hx-trigger`` on #agent-lists) to keep them current."""
    minutes = max(0, int((now - since) / timedelta(minutes=1)))
    if minutes < 1:
        return "waiting under 1 min"
    if minutes < 60:
        return f"waiting {minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"waiting {hours} h {rest} min" if rest else f"waiting {hours} h"
    return f"waiting {hours // 24} d"


def waiting_urgency(since: datetime, now: datetime) -> str:
    """How long a wait looks on the row: "" under 5 minutes, "long" under 15, "urgent"."""
    minutes = (now - since) / timedelta(minutes=1)
    if minutes >= 15:
        return "urgent"
    return "long" if minutes >= 5 else ""


def chat_version(chat: Chat) -> str:
    """What a change of owner or state changes: the page reloads the open chat's head."""
    return f"{chat.kind}:{chat.status}:{chat.ticket_state or '-'}:{chat.agent_id or '-'}"


@dataclass(frozen=True)
class Row:
    """One chat of the agent's lists with what its row shows already worked out (see
    ``views.chat_route``): the links, the times, the waiting words and the preview."""

    chat: Chat
    pk: str  # written out many times a row: as text once, not localized each time
    who: str
    waiting_since: datetime | None
    waiting_iso: str
    waiting: str
    urgency: str
    version: str
    page_url: str
    open_url: str
    when: ListTime
    preview: str
    preview_who: str


def _rows(chats: list[Chat], now: datetime, viewer: User) -> list[Row]:
    page, head = chat_route("agent-chat"), chat_route("agent-chat-open")
    rows = []
    for chat in chats:
        since = chat_queries.waiting_since(chat)
        rows.append(
            Row(
                chat=chat,
                pk=str(chat.pk),
                who=chat.contact.name or chat.contact.address,
                waiting_since=since,
                waiting_iso=list_time(since).iso if since is not None else "",
                waiting=waiting_words(since, now) if since is not None else "",
                urgency=waiting_urgency(since, now) if since is not None else "",
                version=chat_version(chat),
                page_url=page(chat.pk),
                open_url=head(chat.pk),
                when=list_time(chat.last_message_at or chat.created_at),
                preview=preview(getattr(chat, "last_text", None)),
                preview_who=preview_who(chat, viewer),
            )
        )
    return rows


def _lists(user: User, **extra: Any) -> dict[str, Any]:
    chats, seq = chat_queries.read_lists(chat_queries.workspace_chats(user))
    rows = _rows(chats, clock.now(), user)
    queue = [r for r in rows if r.chat.agent_id is None]
    queue.sort(key=lambda r: (r.chat.created_at, r.chat.pk))  # the oldest are accepted first
    return {
        "live_seq": seq,
        "live_chats": [r for r in rows if r.chat.agent_id and r.chat.kind == ChatKind.CHAT],
        "tickets": [r for r in rows if r.chat.agent_id and r.chat.kind == ChatKind.TICKET],
        "unassigned": queue,
        "unassigned_total": getattr(queue[0].chat, "queue_size", 0) if queue else 0,
        "queue_limit": chat_queries.QUEUE_LIMIT,
        "accept_default": DEFAULT_ACCEPT,
        "accept_max": transfers.MAX_ACCEPT,
        "accept_url": reverse("agent-accept"),
        **extra,
    }


def _presence(user: User, **extra: Any) -> dict[str, Any]:
    return {"is_online": account_queries.is_online(user), "presence_user": user, **extra}


def _agent(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def left_words(away: chat_queries.HandedAway, user: User) -> str:
    """Where a chat of the agent's went, and who sent it there."""
    if away.to_name is None:
        return "This chat went back to the queue."
    verb = "transferred" if away.transferred else "assigned"
    if away.by_id == user.pk:
        return f"You {verb} this chat to {away.to_name}."
    who = away.by_name or "The desk"
    return f"{who} {verb} this chat to {away.to_name}."


def _chat_context(user: User, chat_id: int, **extra: Any) -> dict[str, Any]:
    """The open chat's head: who, on which channel, and what the agent may do with it.
    A chat that just left the agent says where it went (their own transfer is a
    success, not an error)."""
    try:
        chat = access.chat_for(user, chat_id)
    except NotFound:
        away = chat_queries.handed_away(user, chat_id)
        if away is not None:
            return {"left": left_words(away, user), "chat_id": chat_id, **extra}
        return {"gone": GONE, "chat_id": chat_id, **extra}
    mine_open = chat.agent_id == user.pk and chat.status == ChatStatus.OPEN
    return {
        "chat": chat,
        "version": chat_version(chat),
        "can_transfer": mine_open and chat.kind == ChatKind.CHAT,
        "can_accept": chat.kind == ChatKind.TICKET and chat.ticket_state == TicketState.UNASSIGNED,
        **extra,
    }


def _workspace(request: HttpRequest, chat_id: int | None) -> HttpResponse:
    user = _agent(request)
    context = _lists(user)
    context.update(_presence(user))
    status = 200
    if chat_id is not None:
        context["open"] = _chat_context(user, chat_id)
        context["selected_id"] = chat_id
        if "gone" in context["open"]:
            context["open"]["gone"] = "No chat with that id is yours to see."
            status = 404
    return render(request, "web/agent.html", context, status=status)


# --- Pages and fragments -------------------------------------------------------------------


@require_GET
@agent_only
def agent_home(request: HttpRequest) -> HttpResponse:
    """The workspace; ``?chat=N`` opens that chat (the notification bell links there)."""
    raw = request.GET.get("chat", "")
    return _workspace(request, int(raw) if raw.isdecimal() and len(raw) < 19 else None)


@require_GET
@agent_only
def agent_chat_page(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The workspace with one of the agent's chats open (a bookmarkable address)."""
    return _workspace(request, chat_id)


@never_cache
@require_GET
@agent_only
def agent_lists(request: HttpRequest) -> HttpResponse:
    """The agent's lists alone, for htmx to swap in when they change."""
    return render(request, "web/_agent_lists.html", _lists(_agent(request)))


@never_cache
@require_GET
@agent_only
def agent_chat_open(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The head of one chat (actions) and the place the shared chat panel loads into. A
    chat that is no longer the agent's answers 200 with a sentence, so htmx shows it."""
    return render(request, "web/_agent_chat.html", _chat_context(_agent(request), chat_id))


@require_POST
@agent_only
def agent_chat_read(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The agent has read the chat they have open: its unread badge clears."""
    try:
        mark_chat_read(chat_id=chat_id, by=_agent(request))
    except DeskError as error:
        return HttpResponse(error.detail, status=error.status_code, content_type="text/plain")
    return HttpResponse(status=204)


@never_cache
@require_http_methods(["GET", "POST"])
@agent_only
def agent_presence(request: HttpRequest) -> HttpResponse:
    """The presence switch: Available or Away (offline is logging out)."""
    user = _agent(request)
    extra: dict[str, Any] = {}
    if request.method == "POST":
        status = request.POST.get("status", "")
        try:
            if status not in (Presence.AVAILABLE, Presence.AWAY):
                raise BadInput("Choose Available or Away; to go offline, log out.")
            user = set_presence(user=user, status=status)
        except DeskError as error:
            extra["refusal"] = error.detail
        if not _is_htmx(request):
            return redirect(reverse("agent-home"))
    return render(request, "web/_agent_presence.html", _presence(user, **extra))


def _accept(user: User, data: Any) -> dict[str, Any]:
    """Accept one ticket (``chat_id``) or the N oldest (``oldest``); what to tell the agent."""
    chat_id, oldest = data.get("chat_id", ""), data.get("oldest", "")
    try:
        if chat_id:
            if not chat_id.isdecimal() or len(chat_id) > 18:
                raise BadInput("That is not a ticket number.")
            accepted = transfers.accept_tickets(by=user, chat_id=int(chat_id))
        else:
            if not oldest.strip().isdecimal() or len(oldest.strip()) > 6:
                raise BadInput("Say how many tickets to accept, as a whole number.")
            accepted = transfers.accept_tickets(by=user, oldest=int(oldest))
    except DeskError as error:
        return {"refusal": error.detail}
    if not accepted:
        return {"notice": "There are no unassigned tickets left to accept."}
    if len(accepted) == 1:
        who = accepted[0].contact.name or accepted[0].contact.address
        return {"notice": f"You accepted the ticket of {who}.", "accepted_id": accepted[0].pk}
    return {"notice": f"You accepted {len(accepted)} tickets."}


@require_POST
@agent_only
def agent_accept(request: HttpRequest) -> HttpResponse:
    """Accept unassigned tickets of the agent's departments; answers the lists with a
    sentence on what happened (a refusal as an alert)."""
    user = _agent(request)
    outcome = _accept(user, request.POST)
    if not _is_htmx(request):
        context = _lists(user, **outcome)
        context.update(_presence(user))
        return render(request, "web/agent.html", context)
    # The sentence goes beside the lists (out of band): the next live refresh keeps it.
    return render(request, "web/_agent_lists.html", _lists(user, oob_flash=True, **outcome))
