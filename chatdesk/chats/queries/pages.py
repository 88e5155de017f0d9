"""The API's pages of chats, messages and events, keyset-paginated with opaque cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from django.db.models import OuterRef, Q, QuerySet, Subquery

from chatdesk.accounts.models import User
from chatdesk.chats.access import visible_chats
from chatdesk.chats.models import Chat, ChatEvent, Message, TicketState
from chatdesk.chats.queries.console import Tab, tab_filter
from chatdesk.chats.window import ContactWindow, contact_window
from chatdesk.core import clock
from chatdesk.core.errors import BadInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

BAD_CURSOR = "The cursor is not valid; start again without it."

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ChatView:
    """A chat as the API shows it: the row and its contact window."""

    chat: Chat
    window: ContactWindow


# A cursor is the last row's sort key and id, tagged with the ordering it belongs to so a
# cursor from one list is refused by another. Clients must treat it as opaque.
def encode_cursor(ordering: str, at: datetime, pk: int) -> str:
    raw = json.dumps([ordering, at.isoformat(), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(ordering: str, cursor: str) -> tuple[datetime, int]:
    """The sort key and id in ``cursor``; anything else, or another list's cursor, is bad
    input."""
    try:
        if len(cursor) > 200:
            raise ValueError(cursor)
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, at_text, pk = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
        at = datetime.fromisoformat(at_text)
        if tag != ordering or at.tzinfo is None or type(pk) is not int or not 0 < pk < 2**63:
            raise ValueError(cursor)
        return at.astimezone(UTC), pk
    except (ValueError, TypeError, OverflowError):
        raise BadInput(BAD_CURSOR) from None


def _after(field: str, at: datetime, pk: int, *, descending: bool) -> Q:
    """Rows strictly after (``at``, ``pk``) in the order ``field, id`` — the id breaks ties
    between rows that share a timestamp."""
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}": at}) | Q(**{field: at, f"pk__{op}": pk})


# Chats and Tickets list the newest first; Closed lists the most recently closed first.
_CHAT_ORDER: dict[Tab, str] = {
    "chats": "created_at",
    "closed": "closed_at",
    "tickets": "created_at",
}

# The contact's last inbound message on the chat's channel, in any of their chats: what
# window.last_inbound_at reads one chat at a time, as one subquery for a whole page.
_CONTACT_LAST_INBOUND = Subquery(
    Chat.objects.filter(
        contact_id=OuterRef("contact_id"),
        channel_id=OuterRef("channel_id"),
        last_inbound_at__isnull=False,
    )
    .order_by("-last_inbound_at")
    .values("last_inbound_at")[:1]
)


def _window(chat: Chat, latest_inbound: datetime | None, now: datetime) -> ContactWindow:
    return contact_window(chat, at=now, last_inbound=latest_inbound)


def chat_view(chat: Chat) -> ChatView:
    """One chat with its contact window (a query or two; for lists use ``chat_page``)."""
    return ChatView(chat=chat, window=contact_window(chat))


def chat_page(
    user: User,
    *,
    tab: str = "chats",
    agent_id: int | None = None,
    department_id: int | None = None,
    ticket_state: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[ChatView]:
    """One page of a tab's chats that ``user`` may see, in one query whatever its size."""
    condition = tab_filter(tab)
    if ticket_state is not None:
        if tab != "tickets":
            raise BadInput(f"ticket_state only applies to tab=tickets, not tab={tab}.")
        if ticket_state not in TicketState.values:
            raise BadInput(f"ticket_state must be one of {', '.join(TicketState.values)}.")
        condition &= Q(ticket_state=ticket_state)
    if agent_id is not None:
        condition &= Q(agent_id=agent_id)
    if department_id is not None:
        condition &= Q(department_id=department_id)
    field = _CHAT_ORDER[tab]  # type: ignore[index]  # tab_filter has checked it
    ordering = f"chats.{field}"
    chats = (
        visible_chats(user)
        .filter(condition)
        .select_related("channel", "contact")
        .annotate(contact_last_inbound_at=_CONTACT_LAST_INBOUND)
        .order_by(f"-{field}", "-id")
    )
    if cursor:
        at, pk = decode_cursor(ordering, cursor)
        chats = chats.filter(_after(field, at, pk, descending=True))
    rows = list(chats[: limit + 1])
    now = clock.now()
    items = [
        ChatView(chat=chat, window=_window(chat, chat.contact_last_inbound_at, now))
        for chat in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(ordering, getattr(last, field), last.pk)
    return Page(items=items, next_cursor=next_cursor)


def message_page(
    chat: Chat, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> Page[Message]:
    """One page of a chat's messages, oldest first, with their templates joined."""
    ordering = "messages.created_at"
    messages = (
        Message.objects.filter(chat=chat).select_related("template").order_by("created_at", "id")
    )
    if cursor:
        at, pk = decode_cursor(ordering, cursor)
        messages = messages.filter(_after("created_at", at, pk, descending=False))
    rows = list(messages[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(ordering, last.created_at, last.pk)
    return Page(items=rows[:limit], next_cursor=next_cursor)


def chat_events(chat: Chat) -> QuerySet[ChatEvent]:
    """A chat's permanent timeline, in the order things happened."""
    return ChatEvent.objects.filter(chat=chat).order_by("created_at", "id")
