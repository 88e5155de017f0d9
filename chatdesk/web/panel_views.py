"""The chat panel shared by the agent workspace and the supervisor console: one chat's
header and actions, transcript, composer, comments, timeline and contact, as htmx
fragments (the composer's rules are in ``panel_composer``, the top bar's bell in
``bell_views``).

Views parse, call one service or query, and render. Customer text reaches the templates
as plain strings: autoescaping is what keeps it text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chatdesk.accounts.models import User
from chatdesk.chats import queries
from chatdesk.chats.models import Chat, ChatKind, ChatStatus
from chatdesk.chats.services import comments as comment_services
from chatdesk.chats.services import notifications as notification_services
from chatdesk.chats.services import outbound
from chatdesk.chats.window import contact_window
from chatdesk.core.errors import DeskError, NotFound
from chatdesk.flows import lifecycle
from chatdesk.flows import outbound as outbound_flow
from chatdesk.web.panel_composer import (
    OPTED_OUT_NOTE,
    SUPERVISOR_NOTE,
    composer_for,
    send_refusal,
    variables_of,
)
from chatdesk.web.views import role_required

__all__ = ["OPTED_OUT_NOTE", "SUPERVISOR_NOTE"]

SIGNED_IN = "Sign in to see chats."
NOT_FOUND = "This chat does not exist, or it is not one you can see."

signed_in = role_required(lambda user: True, SIGNED_IN)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "web/_panel_missing.html", {"sentence": NOT_FOUND}, status=404)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- What a user may do here ------------------------------------------------------------------


def may_close(chat: Chat, user: User) -> bool:
    return chat.status == ChatStatus.OPEN and (user.oversees or chat.agent_id == user.pk)


def may_reopen(chat: Chat, user: User) -> bool:
    return chat.status == ChatStatus.CLOSED and (user.oversees or chat.agent_id == user.pk)


def state_label(chat: Chat) -> str:
    if chat.kind == ChatKind.TICKET:
        return f"Ticket · {chat.get_ticket_state_display().lower()}"
    return "Live chat · open" if chat.status == ChatStatus.OPEN else "Live chat · closed"


# --- Shaping what the queries read ---------------------------------------------------------------

MENTION = comment_services.MENTION


def highlighted(body: str, usernames: frozenset[str]) -> SafeString:
    """The comment's body, escaped, with the @-mentions of the users it notified marked."""
    pieces: list[str] = []
    at = 0
    for match in MENTION.finditer(body):
        pieces.append(conditional_escape(body[at : match.start()]))
        name = match.group(1)
        if name.lower() in usernames or name.rstrip(".").lower() in usernames:
            pieces.append(format_html('<mark class="cdp-mention">@{}</mark>', name))
        else:
            pieces.append(conditional_escape(match.group(0)))
        at = match.end()
    pieces.append(conditional_escape(body[at:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece is escaped above


@dataclass(frozen=True)
class CommentRow:
    comment: Any
    body: SafeString


def comment_rows(chat: Chat) -> list[CommentRow]:
    return [
        CommentRow(entry.comment, highlighted(entry.comment.body, entry.mentioned))
        for entry in queries.comments_of(chat)
    ]


def _panel_context(chat: Chat, user: User, **composer: Any) -> dict[str, Any]:
    events = queries.timeline_of(chat)
    return {
        "chat": chat,
        "state": state_label(chat),
        "window": contact_window(chat),
        "can_close": may_close(chat, user),
        "can_reopen": may_reopen(chat, user),
        **_transcript(chat, user),
        "composer": composer_for(chat, user, **composer),
        "may_retry": send_refusal(chat, user) is None,
        "comments": comment_rows(chat),
        "events": events,
        "handover": queries.handover_note(chat, events),
        "earlier": queries.earlier_chats(chat, user),
        "opted_out_channels": queries.opt_outs_of(chat),
    }


def _transcript(chat: Chat, user: User) -> dict[str, Any]:
    """The transcript's context: the chat's messages, and the earlier conversation a reply
    to a re-engagement continues (shown above them)."""
    return {
        "messages": queries.transcript_of(chat),
        "earlier_conversation": queries.earlier_conversation(chat, viewer=user),
    }


def _read_transcript(chat: Chat, user: User) -> dict[str, Any]:
    """The transcript after the chat's own agent acted on it (a POST): they have read it.
    A GET never marks a chat read; the page showing it does, with a POST of its own."""
    context = _transcript(chat, user)
    if chat.agent_id == user.pk:
        notification_services.mark_chat_read(chat_id=chat.pk, by=user)
    return context


def _chat(request: HttpRequest, chat_id: int) -> Chat:
    return queries.panel_chat(_user(request), chat_id)


# --- Pages and fragments -----------------------------------------------------------------------


@never_cache
@require_GET
@signed_in
def chat_page(request: HttpRequest, chat_id: int) -> HttpResponse:
    """A permalink to one chat: the panel on a page of its own."""
    user = _user(request)
    seq = queries.newest_seq()
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
    context = {
        "chat": chat,
        **_transcript(chat, _user(request)),
        "may_retry": send_refusal(chat, _user(request)) is None,
    }
    return render(request, "web/_panel_transcript.html", context)


@never_cache
@require_POST
@signed_in
def retry_message(request: HttpRequest, chat_id: int, message_id: int) -> HttpResponse:
    """A failed message's Retry: queued again, and the transcript shown afresh (with the
    refusal's sentence above it when it may not be)."""
    user = _user(request)
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        return _not_found(request)
    error, status = "", 200
    try:
        outbound_flow.retry_message(chat_id=chat.pk, message_id=message_id, by=user)
    except DeskError as refusal:
        error, status = refusal.detail, refusal.status_code
    context = {
        "chat": chat,
        **_transcript(chat, user),
        "may_retry": send_refusal(chat, user) is None,
        "retry_error": error,
    }
    # panel.js swaps a refusal in too: it is shown in the transcript it was made from.
    return render(request, "web/_panel_transcript.html", context, status=status)


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
        variables=variables_of(request.GET),
        chose_template=request.GET.get("mode") == "template",
    )
    return render(request, "web/_panel_composer.html", {"chat": chat, "composer": composer})


@never_cache
@require_POST
@signed_in
def send_message(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The composer: free text, or a template with its variables."""
    user = _user(request)
    template_id = request.POST.get("template_id") or None
    variables = variables_of(request.POST)
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
        "composer": composer_for(chat, user, sent=True),
        **_read_transcript(chat, user),
        "may_retry": True,
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
        else:
            context["added"] = True  # the box starts empty, whatever the page had kept
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
    """Who a comment on this chat can @-mention: for htmx, the options of the comment box's
    listbox (``q`` is the word after the @, ``box`` the listbox's id); otherwise, as data,
    ``{"users": [{username, name}]}``."""
    try:
        chat = _chat(request, chat_id)
    except NotFound:
        if _is_htmx(request):
            return HttpResponse(status=404)
        return JsonResponse({"detail": NOT_FOUND}, status=404)
    users = queries.mentionable_users(chat, by=_user(request), term=request.GET.get("q", "")[:150])
    if _is_htmx(request):
        box = request.GET.get("box", "")
        box = box if box.replace("-", "").isalnum() and len(box) < 60 else "cdp-mentions"
        return render(request, "web/_panel_mentions.html", {"users": users, "box": box})
    return JsonResponse({"users": [{"username": u.username, "name": u.name} for u in users]})
