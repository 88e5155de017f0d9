"""The chat panel shared by the agent workspace and the supervisor console: one chat's
header and actions, transcript, composer, comments, timeline and contact, as htmx
fragments; plus the notifications bell of the top bar.

Views parse, call one service or query, and render. Customer text reaches the templates
as plain strings: autoescaping is what keeps it text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chatdesk.accounts.models import User
from chatdesk.chats import access, queries
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    Comment,
    ContactOptOut,
    Message,
    Notification,
)
from chatdesk.chats.services import comments as comment_services
from chatdesk.chats.services import notifications as notification_services
from chatdesk.chats.services import outbound
from chatdesk.chats.window import ContactWindow, contact_window
from chatdesk.core import clock
from chatdesk.core.errors import DeskError, Forbidden, NotFound
from chatdesk.flows import lifecycle
from chatdesk.flows import outbound as outbound_flow
from chatdesk.providers.models import ChannelKind, Template, TemplateStatus
from chatdesk.realtime import log as live_events
from chatdesk.web.views import role_required

SIGNED_IN = "Sign in to see chats."
NOT_FOUND = "This chat does not exist, or it is not one you can see."
SUPERVISOR_NOTE = "Supervisors cannot take part in a live chat; add a comment instead."
OPTED_OUT_NOTE = "The contact opted out (STOP); they must send START before you can write."

# The transcript shows the newest messages; older ones are in the API's pages.
TRANSCRIPT_LIMIT = 200
BELL_LIMIT = 10
MENTION_LIMIT = 8

signed_in = role_required(lambda user: True, SIGNED_IN)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "web/_panel_missing.html", {"sentence": NOT_FOUND}, status=404)


# --- What a user may do here ------------------------------------------------------------------


def _is_live(chat: Chat) -> bool:
    return chat.kind == ChatKind.CHAT and chat.status == ChatStatus.OPEN


def may_close(chat: Chat, user: User) -> bool:
    return chat.status == ChatStatus.OPEN and (user.oversees or chat.agent_id == user.pk)


def may_reopen(chat: Chat, user: User) -> bool:
    return chat.status == ChatStatus.CLOSED and (user.oversees or chat.agent_id == user.pk)


def state_label(chat: Chat) -> str:
    if chat.kind == ChatKind.TICKET:
        return f"Ticket · {chat.get_ticket_state_display().lower()}"
    return "Live chat · open" if chat.status == ChatStatus.OPEN else "Live chat · closed"


@dataclass
class Composer:
    """What the composer offers this user on this chat, and what they had typed."""

    chat: Chat
    may_send: bool
    note: str = ""
    window: ContactWindow | None = None
    opted_out: bool = False
    is_sms: bool = False
    templates: list[Template] = field(default_factory=list)
    template: Template | None = None
    variables: list[str] = field(default_factory=list)
    draft: str = ""
    error: str = ""
    chose_template: bool = False  # the user asked for a template while free text is allowed
    has_templates: bool = False

    @property
    def must_use_template(self) -> bool:
        return self.window is not None and self.window.applies and not self.window.is_open

    @property
    def needs_template(self) -> bool:
        """Show the template picker: required outside the window, or chosen."""
        return self.must_use_template or self.chose_template

    @property
    def supervisor_note(self) -> str:
        return SUPERVISOR_NOTE

    @property
    def opted_out_note(self) -> str:
        return OPTED_OUT_NOTE

    @property
    def window_left(self) -> str:
        """The time left in the contact window, as HH:MM:SS (what the countdown starts at)."""
        if self.window is None or self.window.expires_at is None or not self.window.is_open:
            return ""
        seconds = max(0, int((self.window.expires_at - clock.now()).total_seconds()))
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    @property
    def fields(self) -> list[tuple[int, str]]:
        if self.template is None:
            return []
        values = self.variables + [""] * self.template.variable_count
        return [(n, values[n - 1]) for n in range(1, self.template.variable_count + 1)]


def composer_for(
    chat: Chat,
    user: User,
    *,
    template_id: str | None = None,
    variables: list[str] | None = None,
    draft: str = "",
    error: str = "",
    chose_template: bool = False,
) -> Composer:
    try:
        access.check_may_send(user, chat)
    except DeskError as refusal:
        note = SUPERVISOR_NOTE if isinstance(refusal, Forbidden) and _is_live(chat) else ""
        return Composer(chat=chat, may_send=False, note=note or refusal.detail)
    composer = Composer(
        chat=chat,
        may_send=True,
        window=contact_window(chat),
        opted_out=ContactOptOut.objects.filter(
            contact_id=chat.contact_id, channel_id=chat.channel_id
        ).exists(),
        is_sms=chat.channel.kind == ChannelKind.SMS,
        variables=list(variables or []),
        draft=draft,
        error=error,
    )
    approved = Template.objects.filter(channel=chat.channel, status=TemplateStatus.APPROVED)
    # A template may be sent at any time; inside the window it is the user's choice.
    composer.chose_template = (chose_template or template_id is not None) and approved.exists()
    if composer.needs_template:
        composer.templates = list(approved.order_by("name", "language", "id"))
        chosen = [t for t in composer.templates if str(t.pk) == (template_id or "")]
        composer.template = chosen[0] if chosen else None
    else:
        composer.has_templates = approved.exists()
    return composer


# --- Reads -------------------------------------------------------------------------------------


def transcript_of(chat: Chat) -> list[Message]:
    """The newest messages of the chat, oldest first."""
    rows = list(
        Message.objects.filter(chat=chat)
        .select_related("template", "author")
        .order_by("-created_at", "-id")[:TRANSCRIPT_LIMIT]
    )
    rows.reverse()
    return rows


MENTION = comment_services.MENTION


def highlighted(comment: Comment, usernames: set[str]) -> SafeString:
    """The comment's body, escaped, with the @-mentions of the users it notified marked."""
    pieces: list[str] = []
    at = 0
    for match in MENTION.finditer(comment.body):
        pieces.append(conditional_escape(comment.body[at : match.start()]))
        name = match.group(1)
        if name.lower() in usernames or name.rstrip(".").lower() in usernames:
            pieces.append(format_html('<mark class="cdp-mention">@{}</mark>', name))
        else:
            pieces.append(conditional_escape(match.group(0)))
        at = match.end()
    pieces.append(conditional_escape(comment.body[at:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece is escaped above


@dataclass(frozen=True)
class CommentRow:
    comment: Comment
    body: SafeString


def comment_rows(chat: Chat) -> list[CommentRow]:
    comments = list(queries.chat_comments(chat).select_related("author"))
    ids = {user.pk for comment in comments for user in comment.mentions.all()}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))
    return [
        CommentRow(
            comment,
            highlighted(comment, {names[u.pk].lower() for u in comment.mentions.all()}),
        )
        for comment in comments
    ]


def mentionable_users(chat: Chat, *, by: User, term: str) -> list[User]:
    """Active users, besides ``by``, who may see the chat (``access.users_who_may_see``),
    whose username or name starts with ``term``."""
    users = access.users_who_may_see(chat).exclude(pk=by.pk)
    term = term.strip().lstrip("@")
    if term:
        users = users.filter(
            Q(username__istartswith=term)
            | Q(display_name__istartswith=term)
            | Q(display_name__icontains=" " + term)
            | Q(first_name__istartswith=term)
            | Q(last_name__istartswith=term)
        )
    return list(users.distinct().order_by("username")[:MENTION_LIMIT])


def earlier_chats(chat: Chat, user: User) -> list[Chat]:
    return list(
        access.visible_chats(user)
        .filter(contact_id=chat.contact_id)
        .exclude(pk=chat.pk)
        .select_related("channel", "agent")
        .order_by("-created_at", "-id")[:20]
    )


@dataclass(frozen=True)
class TimelineRow:
    event: ChatEvent
    detail: str


def timeline_of(chat: Chat) -> list[TimelineRow]:
    """The chat's timeline, each event with a few words on what it carried."""
    events = list(queries.chat_events(chat).select_related("actor"))
    ids = {
        event.data[key]
        for event in events
        for key in ("agent_id", "from_agent_id")
        if isinstance(event.data.get(key), int)
    }
    names = {user.pk: user.name for user in User.objects.filter(pk__in=ids)}
    rows = []
    for event in events:
        data = event.data
        words = []
        if isinstance(data.get("from_agent_id"), int) and data["from_agent_id"] in names:
            words.append(f"from {names[data['from_agent_id']]}")
        if isinstance(data.get("agent_id"), int) and data["agent_id"] in names:
            words.append(f"to {names[data['agent_id']]}")
        if data.get("template"):
            words.append(f"template {data['template']}")
        if data.get("reason"):
            words.append(str(data["reason"]).replace("_", " "))
        if data.get("closed_by"):
            words.append(f"by the {data['closed_by']}")
        if data.get("keyword"):
            words.append(f"keyword {data['keyword']}")
        rows.append(TimelineRow(event, ", ".join(words)))
    return rows


def _panel_context(chat: Chat, user: User, **composer: Any) -> dict[str, Any]:
    window = contact_window(chat)
    return {
        "chat": chat,
        "state": state_label(chat),
        "window": window,
        "can_close": may_close(chat, user),
        "can_reopen": may_reopen(chat, user),
        "messages": transcript_of(chat),
        "composer": composer_for(chat, user, **composer),
        "comments": comment_rows(chat),
        "events": timeline_of(chat),
        "earlier": earlier_chats(chat, user),
        "opted_out_channels": list(
            ContactOptOut.objects.filter(contact_id=chat.contact_id).select_related("channel")
        ),
    }


def _read_transcript(chat: Chat, user: User) -> list[Message]:
    """The transcript after the chat's own agent acted on it (a POST): they have read it.
    A GET never marks a chat read; the page showing it does, with a POST of its own."""
    messages = transcript_of(chat)
    if chat.agent_id == user.pk:
        notification_services.mark_chat_read(chat_id=chat.pk, by=user)
    return messages


def _chat(request: HttpRequest, chat_id: int) -> Chat:
    chat = access.chat_for(_user(request), chat_id)
    return Chat.objects.select_related("contact", "channel", "agent", "department").get(pk=chat.pk)


# --- Pages and fragments -----------------------------------------------------------------------


@never_cache
@require_GET
@signed_in
def chat_page(request: HttpRequest, chat_id: int) -> HttpResponse:
    """A permalink to one chat: the panel on a page of its own."""
    user = _user(request)
    seq = live_events.latest_seq()
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return render(
            request, "web/panel_page.html", {"sentence": NOT_FOUND, "live_seq": seq}, status=404
        )
    context = _panel_context(chat, user)
    context["live_seq"] = seq
    if chat.agent_id == user.pk:
        # The page marks its chat read once shown, and again as messages arrive.
        context["read_url"] = reverse("agent-chat-read", args=[chat.pk])
    return render(request, "web/panel_page.html", context)


@never_cache
@require_GET
@signed_in
def chat_panel(request: HttpRequest, chat_id: int) -> HttpResponse:
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    return render(request, "web/_panel.html", _panel_context(chat, _user(request)))


@never_cache
@require_GET
@signed_in
def chat_transcript(request: HttpRequest, chat_id: int) -> HttpResponse:
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    return render(
        request, "web/_panel_transcript.html", {"chat": chat, "messages": transcript_of(chat)}
    )


@never_cache
@require_GET
@signed_in
def chat_composer(request: HttpRequest, chat_id: int) -> HttpResponse:
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    composer = composer_for(
        chat,
        _user(request),
        template_id=request.GET.get("template_id") or None,
        variables=_variables(request.GET),
        chose_template=request.GET.get("mode") == "template",
    )
    return render(request, "web/_panel_composer.html", {"chat": chat, "composer": composer})


def _variables(data: Any) -> list[str]:
    numbered = sorted(
        (int(match.group(1)), value)
        for key, value in data.items()
        if (match := re.fullmatch(r"var_(\d{1,2})", key))
    )
    return [value for _, value in numbered]


@never_cache
@require_POST
@signed_in
def send_message(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The composer: free text, or a template with its variables."""
    user = _user(request)
    template_id = request.POST.get("template_id") or None
    variables = _variables(request.POST)
    text = request.POST.get("text", "")
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    try:
        if template_id is not None:
            if not template_id.isdigit():
                raise NotFound("No template with that id.")
            reply = outbound.Reply(template_id=int(template_id), variables=tuple(variables))
        else:
            reply = outbound.Reply(text=text)
        outbound_flow.send_message(chat_id=chat.pk, reply=reply, by=user)
    except DeskError as refusal:
        composer = composer_for(
            chat,
            user,
            template_id=template_id,
            variables=variables,
            draft=text,
            error=refusal.detail,
        )
        status = refusal.status_code
        return render(
            request, "web/_panel_composer.html", {"chat": chat, "composer": composer}, status=status
        )
    context = {
        "chat": chat,
        "composer": composer_for(chat, user),
        "messages": _read_transcript(chat, user),
        "oob": True,
    }
    return render(request, "web/_panel_composer.html", context)


def _action(request: HttpRequest, chat_id: int, action: Any) -> HttpResponse:
    user = _user(request)
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    error = ""
    try:
        action(chat_id=chat.pk, by=user)
    except DeskError as refusal:
        error = refusal.detail
    chat = _chat(request, chat_id)
    context = _panel_context(chat, user)
    context["error"] = error
    return render(request, "web/_panel.html", context, status=409 if error else 200)


@require_POST
@signed_in
def close_chat(request: HttpRequest, chat_id: int) -> HttpResponse:
    return _action(request, chat_id, lifecycle.close_chat)


@require_POST
@signed_in
def reopen_chat(request: HttpRequest, chat_id: int) -> HttpResponse:
    return _action(request, chat_id, lifecycle.reopen_chat)


@never_cache
@signed_in
def chat_comments(request: HttpRequest, chat_id: int) -> HttpResponse:
    """GET: the comments; POST: add one (its @-mentions notify)."""
    user = _user(request)
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    context: dict[str, Any] = {"chat": chat}
    status = 200
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            comment_services.add_comment(chat_id=chat.pk, body=body, by=user)
        except DeskError as refusal:
            context.update(error=refusal.detail, draft=body)
            status = refusal.status_code
    elif request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    context["comments"] = comment_rows(chat)
    if request.method == "GET":
        return render(request, "web/_panel_comment_list.html", context)
    return render(request, "web/_panel_comments.html", context, status=status)


@never_cache
@require_GET
@signed_in
def mentionable(request: HttpRequest, chat_id: int) -> HttpResponse:
    """Who a comment on this chat can @-mention: ``[{username, name}]``."""
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return JsonResponse({"detail": NOT_FOUND}, status=404)
    users = mentionable_users(chat, by=_user(request), term=request.GET.get("q", "")[:150])
    return JsonResponse({"users": [{"username": u.username, "name": u.name} for u in users]})


# --- The bell ----------------------------------------------------------------------------------


def chat_link(user: User, chat_id: int) -> str:
    """Where a notification takes its reader: the page of their role, with the chat open."""
    home = "/supervisor/" if user.oversees else "/agent/"
    return f"{home}?chat={chat_id}"


@dataclass(frozen=True)
class BellItem:
    notification: Notification
    link: str
    text: str


def bell_context(user: User) -> dict[str, Any]:
    notifications = Notification.objects.filter(recipient=user).select_related(
        "chat__contact", "comment__author"
    )
    items = []
    for notification in notifications.order_by("-created_at", "-id")[:BELL_LIMIT]:
        chat = notification.chat
        who = chat.contact.name or chat.contact.phone
        if notification.kind == "mention" and notification.comment is not None:
            text = f"{notification.comment.author.name} mentioned you on the chat with {who}"
        elif notification.kind == "transferred":
            text = f"The chat with {who} was transferred to you"
        else:
            text = f"The chat with {who} was assigned to you"
        items.append(BellItem(notification, chat_link(user, chat.pk), text))
    return {
        "bell_unread": queries.unread_notification_count(user),
        "bell_items": items,
        "bell_url": reverse("notification-bell"),
    }


@never_cache
@require_GET
@signed_in
def notification_bell(request: HttpRequest) -> HttpResponse:
    return render(request, "web/_panel_bell.html", bell_context(_user(request)))


@require_POST
@signed_in
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    notification_services.mark_all_read(by=user)
    return render(request, "web/_panel_bell.html", {**bell_context(user), "bell_open": True})


@require_POST
@signed_in
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    user = _user(request)
    try:
        notification_services.mark_read(notification_id=notification_id, by=user)
    except NotFound as missing:
        return HttpResponse(missing.detail, status=404, content_type="text/plain")
    return render(request, "web/_panel_bell.html", bell_context(user))
