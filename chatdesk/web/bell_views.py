"""The notifications bell of the top bar, on every signed-in page: its fragment (the unread
count and the latest notifications), marking one read (then going to its chat) and
marking all read. The bell refreshes itself with htmx on ``desk:notification``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chatdesk.accounts.models import User
from chatdesk.chats import queries
from chatdesk.chats.models import Notification, NotificationKind
from chatdesk.chats.services import notifications as notification_services
from chatdesk.core.errors import NotFound
from chatdesk.web.views import role_required

BELL_LIMIT = 10

signed_in = role_required(lambda user: True, "Sign in to see your notifications.")


# Kinds that tell of a chat handed on from the reader: it is no longer theirs to open.
HANDED_ON = (
    NotificationKind.REASSIGNED,
    NotificationKind.DISCONNECTED,
    NotificationKind.UNANSWERED,
)


def chat_link(user: User, chat_id: int) -> str:
    """Where a notification takes its reader: the page of their role, with the chat open."""
    home = reverse("supervisor-home") if user.oversees else reverse("agent-home")
    return f"{home}?chat={chat_id}"


def notification_link(user: User, notification: Notification) -> str:
    """The chat of the notification; for a chat handed on from the reader, their home."""
    if notification.kind in HANDED_ON and not user.oversees:
        return reverse("agent-home")
    return chat_link(user, notification.chat_id)


def duration_words(seconds: float) -> str:
    """'2 minutes', '90 seconds': a setting in seconds as a person says it."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    whole = int(seconds)
    return f"{whole} second{'s' if whole != 1 else ''}"


@dataclass(frozen=True)
class BellItem:
    notification: Notification
    link: str
    text: str
    label: str
    note: str = ""  # what the assigning person wrote


_LABELS = {
    "mention": "Mention",
    "assigned": "Assigned",
    "transferred": "Transferred",
    "reassigned": "Reassigned",
    "disconnected": "Disconnected",
    "unanswered": "Unanswered",
}


def bell_text(notification: Notification) -> str:
    """The notification in a sentence: what happened to which chat, and who did it."""
    chat = notification.chat
    who = chat.contact.name or chat.contact.address
    actor = notification.actor.name if notification.actor is not None else ""
    if notification.kind == "mention" and notification.comment is not None:
        return f"{notification.comment.author.name} mentioned you on the chat with {who}"
    if notification.kind == "reassigned":
        holder = f" to {chat.agent.name}" if chat.agent is not None else ""
        return f"{actor or 'The desk'} gave your chat with {who}{holder}"
    if notification.kind == NotificationKind.DISCONNECTED:
        grace = duration_words(float(settings.CHATDESK_OFFLINE_GRACE))
        return (
            f"The chat with {who} went back to the queue for others: "
            f"you were disconnected for more than {grace}"
        )
    if notification.kind == NotificationKind.UNANSWERED:
        wait = duration_words(float(settings.CHATDESK_UNANSWERED_REASSIGN))
        return (
            f"The chat with {who} went to another agent: "
            f"its first message was not answered within {wait}"
        )
    verb = "transferred" if notification.kind == "transferred" else "assigned"
    by = f" by {actor}" if actor else ""
    return f"The chat with {who} was {verb} to you{by}"


def bell_context(user: User, *, is_open: bool = False) -> dict[str, Any]:
    items = []
    for notification in queries.bell_notifications(user, limit=BELL_LIMIT):
        items.append(
            BellItem(
                notification,
                notification_link(user, notification),
                bell_text(notification),
                _LABELS.get(notification.kind, "Notice"),
                notification.note,
            )
        )
    return {
        "bell_unread": queries.unread_notification_count(user),
        "bell_items": items,
        "bell_url": reverse("notification-bell"),
        "bell_open": is_open,
    }


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _is_open(request: HttpRequest) -> bool:
    """The menu was open when the refresh was asked for (the bell's own ``open`` field)."""
    data = request.POST if request.method == "POST" else request.GET
    return data.get("open") == "1"


@never_cache
@require_GET
@signed_in
def notification_bell(request: HttpRequest) -> HttpResponse:
    context = bell_context(_user(request), is_open=_is_open(request))
    return render(request, "web/_panel_bell.html", context)


@require_POST
@signed_in
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    notification_services.mark_all_read(by=user)
    return render(request, "web/_panel_bell.html", bell_context(user, is_open=True))


@require_POST
@signed_in
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; from the bell (htmx), then go to its chat."""
    user = _user(request)
    try:
        notification = notification_services.mark_read(notification_id=notification_id, by=user)
    except NotFound as missing:
        return HttpResponse(missing.detail, status=404, content_type="text/plain")
    response = render(request, "web/_panel_bell.html", bell_context(user))
    if request.headers.get("HX-Request") == "true":
        response["HX-Redirect"] = notification_link(user, notification)
    return response
