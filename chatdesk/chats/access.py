"""Who may see and act on which chat. ``chat_for`` is the only way a request gets a chat."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatKind, TicketState
from chatdesk.core.errors import NotFound


def visible_chats(user: User) -> QuerySet[Chat]:
    """Supervisors and admins see every chat; an agent sees their own chats and tickets
    and the unassigned tickets of their departments."""
    chats = Chat.objects.all()
    if user.oversees:
        return chats
    return chats.filter(
        Q(agent=user)
        | Q(
            kind=ChatKind.TICKET,
            ticket_state=TicketState.UNASSIGNED,
            department__in=user.departments.all(),
        )
    )


def chat_for(user: User, chat_id: int, *, for_update: bool = False) -> Chat:
    """The chat, if this user may see it; otherwise "not found" (never "forbidden", which
    would confirm it exists)."""
    chats = visible_chats(user)
    if for_update:
        chats = chats.select_for_update()
    chat = chats.filter(pk=chat_id).first()
    if chat is None:
        raise NotFound("No chat with that id.")
    return chat
