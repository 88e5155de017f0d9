"""A chat's transcript as the panel shows it: the newest messages, oldest first."""

from __future__ import annotations

from chatdesk.chats.models import Chat, Message

# The panel shows the newest messages; older ones are in the API's pages.
TRANSCRIPT_LIMIT = 200


def transcript_of(chat: Chat, *, limit: int = TRANSCRIPT_LIMIT) -> list[Message]:
    """The newest ``limit`` messages of the chat, oldest first, with their templates and
    authors joined."""
    rows = list(
        Message.objects.filter(chat=chat)
        .select_related("template", "author")
        .order_by("-created_at", "-id")[:limit]
    )
    rows.reverse()
    return rows
