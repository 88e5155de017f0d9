"""Reads for the chat panel beside the transcript: comments (with whom each mentions),
the timeline in words, the contact's other chats and opt-outs, the composer's templates,
and who a comment can @-mention."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats.access import chat_for, visible_chats
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    Comment,
    ContactOptOut,
    EventKind,
)
from chatdesk.providers.models import Channel, Template, TemplateStatus

MENTION_LIMIT = 8
EARLIER_LIMIT = 20

# A reason whose name does not read as words.
_REASON_WORDS = {"reengagement_reply": "who re-engaged the contact"}


def panel_chat(user: User, chat_id: int) -> Chat:
    """The chat, if ``user`` may see it (else ``NotFound``), with what the panel's header
    shows joined: contact, channel, agent, department."""
    chat = chat_for(user, chat_id)
    return Chat.objects.select_related("contact", "channel", "agent", "department").get(pk=chat.pk)


def chat_comments(chat: Chat) -> QuerySet[Comment]:
    """A chat's comments, oldest first, with the ids of whom each mentions prefetched."""
    mentioned = User.objects.only("id").order_by("id")
    return (
        Comment.objects.filter(chat=chat)
        .prefetch_related(Prefetch("mentions", queryset=mentioned))
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class CommentEntry:
    """A comment with the usernames (lower case) of the users it notified."""

    comment: Comment
    mentioned: frozenset[str]


def comments_of(chat: Chat) -> list[CommentEntry]:
    """A chat's comments, oldest first, with their authors, each with whom it notified."""
    mentioned = User.objects.only("id", "username").order_by("id")
    comments = (
        Comment.objects.filter(chat=chat)
        .select_related("author")
        .prefetch_related(Prefetch("mentions", queryset=mentioned))
        .order_by("created_at", "id")
    )
    return [
        CommentEntry(comment, frozenset(u.username.lower() for u in comment.mentions.all()))
        for comment in comments
    ]


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a chat's timeline with a few words on what it carried."""

    event: ChatEvent
    detail: str
    note: str = ""  # what the person who assigned or transferred the chat wrote


def timeline_of(chat: Chat) -> list[TimelineEntry]:
    """The chat's timeline in the order things happened, each event with its words (the
    agents it names by name)."""
    events = list(
        ChatEvent.objects.filter(chat=chat).select_related("actor").order_by("created_at", "id")
    )
    ids = {
        event.data[key]
        for event in events
        for key in ("agent_id", "from_agent_id", "reengaged_by_id")
        if isinstance(event.data.get(key), int)
    }
    names = {user.pk: user.name for user in User.objects.filter(pk__in=ids)}
    entries = []
    for event in events:
        data = event.data
        words = []
        if isinstance(data.get("from_agent_id"), int) and data["from_agent_id"] in names:
            words.append(f"from {names[data['from_agent_id']]}")
        if isinstance(data.get("agent_id"), int) and data["agent_id"] in names:
            words.append(f"to {names[data['agent_id']]}")
        if data.get("template"):
            words.append(f"template {data['template']}")
        if isinstance(data.get("continues_chat_id"), int):
            words.append(f"continues chat {data['continues_chat_id']}")
        if isinstance(data.get("reengaged_by_id"), int) and data["reengaged_by_id"] in names:
            words.append(f"re-engaged by {names[data['reengaged_by_id']]}")
        if data.get("reason"):
            reason = str(data["reason"])
            words.append(_REASON_WORDS.get(reason, reason.replace("_", " ")))
        if data.get("closed_by"):
            words.append(f"by the {data['closed_by']}")
        if data.get("keyword"):
            words.append(f"keyword {data['keyword']}")
        note = data.get("note")
        entries.append(
            TimelineEntry(event, ", ".join(words), note if isinstance(note, str) else "")
        )
    return entries


def handover_note(chat: Chat, entries: list[TimelineEntry]) -> TimelineEntry | None:
    """The latest handover with a note, while the chat is still with the agent it was
    written for (``entries`` is its ``timeline_of``): what the panel shows its holder."""
    for entry in reversed(entries):
        if entry.event.kind in (EventKind.ASSIGNED, EventKind.TRANSFERRED):
            same = chat.agent_id is not None and entry.event.data.get("agent_id") == chat.agent_id
            return entry if same and entry.note else None
    return None


def earlier_chats(chat: Chat, user: User, *, limit: int = EARLIER_LIMIT) -> list[Chat]:
    """The contact's other chats that ``user`` may see, newest first."""
    return list(
        visible_chats(user)
        .filter(contact_id=chat.contact_id)
        .exclude(pk=chat.pk)
        .select_related("channel", "agent")
        .order_by("-created_at", "-id")[:limit]
    )


def opt_outs_of(chat: Chat) -> list[ContactOptOut]:
    """The channels the chat's contact has opted out of (STOP), with the channels joined."""
    return list(ContactOptOut.objects.filter(contact_id=chat.contact_id).select_related("channel"))


def is_opted_out(chat: Chat) -> bool:
    """The contact opted out (STOP) of the chat's channel."""
    return ContactOptOut.objects.filter(
        contact_id=chat.contact_id, channel_id=chat.channel_id
    ).exists()


def approved_templates(channel: Channel) -> QuerySet[Template]:
    """The channel's approved templates, by name and language."""
    return Template.objects.filter(channel=channel, status=TemplateStatus.APPROVED).order_by(
        "name", "language", "id"
    )


def mentionable_users(chat: Chat, *, by: User, term: str, limit: int = MENTION_LIMIT) -> list[User]:
    """Active users, besides ``by``, who may see the chat (``access.users_who_may_see``),
    whose username or name starts with ``term`` (a leading @ is ignored); by username."""
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
    return list(users.distinct().order_by("username")[:limit])
