"""Reads about chats: the supervisor's tabs and their counts, an agent's own chats, and the
API's pages of chats, messages and events (keyset-paginated with opaque cursors)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar, get_args

from django.db import connection
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from chatdesk.accounts.models import User
from chatdesk.chats.access import visible_chats
from chatdesk.chats.models import (
    Chat,
    ChatCount,
    ChatEvent,
    ChatKind,
    ChatStatus,
    Comment,
    DeliveryStatus,
    Direction,
    Message,
    Notification,
    TicketState,
)
from chatdesk.chats.window import ContactWindow, contact_window
from chatdesk.core import clock
from chatdesk.core.errors import BadInput
from chatdesk.providers.models import Channel, ChannelKind

Tab = Literal["chats", "closed", "tickets"]
TABS: tuple[Tab, ...] = get_args(Tab)

# Chats: live chats still open. Closed: live chats that ended. Tickets: every ticket,
# whatever its state (the console splits them into unassigned / assigned / closed).
_TAB_FILTERS: dict[Tab, Q] = {
    "chats": Q(kind=ChatKind.CHAT, status=ChatStatus.OPEN),
    "closed": Q(kind=ChatKind.CHAT, status=ChatStatus.CLOSED),
    "tickets": Q(kind=ChatKind.TICKET),
}


# Chats with no message yet sort last on SQLite and PostgreSQL alike.
_LATEST_FIRST = F("last_message_at").desc(nulls_last=True)


def tab_filter(tab: str) -> Q:
    """The condition that puts a chat in ``tab``; an unknown tab is bad input."""
    try:
        return _TAB_FILTERS[tab]  # type: ignore[index]
    except KeyError:
        raise BadInput(f"Tab must be one of {', '.join(TABS)}; got {tab!r}.") from None


@dataclass(frozen=True)
class AgentCount:
    agent_id: int
    display_name: str
    count: int


@dataclass(frozen=True)
class TabSummary:
    """One tab's chats counted per agent; ``unassigned`` counts those with no agent."""

    tab: str
    total: int
    agents: list[AgentCount]
    unassigned: int


def _display_name(username: str, display_name: str, first: str, last: str) -> str:
    return display_name or f"{first or ''} {last or ''}".strip() or username


def _counts_seen_by(user: User) -> QuerySet[ChatCount]:
    """The counted chats ``user`` may see, by the rule of ``access.visible_chats``: the
    whole desk for a supervisor; an agent's own chats and their departments' unassigned
    tickets."""
    counts = ChatCount.objects.all()
    if user.oversees:
        return counts
    return counts.filter(
        Q(agent=user)
        | Q(
            kind=ChatKind.TICKET,
            ticket_state=TicketState.UNASSIGNED,
            department__in=user.departments.all(),
        )
    )


def tab_summary(tab: str, *, seen_by: User | None = None) -> TabSummary:
    """Per-agent counts of one tab, in a single query; most chats first.

    With ``seen_by``, only the chats that user may see are counted: the whole desk for a
    supervisor, an agent's own chats and their departments' unassigned tickets.

    The counts are the database's own (``ChatCount``), added up per agent, so the query
    reads a few rows per agent however many chats the desk has had; the resulting rows
    are joined to the users after adding up."""
    counts = ChatCount.objects.all() if seen_by is None else _counts_seen_by(seen_by)
    per_agent = (
        counts.filter(tab_filter(tab))
        .order_by()
        .values("agent_id")
        .annotate(total=Sum("n"))
        .exclude(total=0)  # an agent whose chats all moved on, before the rows are folded
    )
    inner, params = per_agent.query.sql_with_params()
    users = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Both pieces are SQL Django compiled, the values passed apart as parameters.
            f"SELECT c.agent_id, c.total, u.username, u.display_name, u.first_name, "  # noqa: S608
            f"u.last_name FROM ({inner}) c LEFT OUTER JOIN {users} u ON u.id = c.agent_id",
            params,
        )
        rows = cursor.fetchall()
    agents: list[AgentCount] = []
    unassigned = 0
    for agent_id, count, *names in rows:
        if agent_id is None:
            unassigned += int(count)
        else:
            agents.append(AgentCount(agent_id, _display_name(*names), int(count)))
    agents.sort(key=lambda a: (-a.count, a.display_name.casefold(), a.agent_id))
    total = unassigned + sum(a.count for a in agents)
    return TabSummary(tab=tab, total=total, agents=agents, unassigned=unassigned)


def tab_totals() -> dict[str, int]:
    """How many chats each tab holds, in one query: ``{"chats": 3, "closed": 10, ...}``,
    added up from the database's own counts (a few rows per agent)."""
    totals = ChatCount.objects.aggregate(
        **{tab: Sum("n", filter=condition) for tab, condition in _TAB_FILTERS.items()}
    )
    return {tab: int(totals[tab] or 0) for tab in TABS}


def ticket_state_counts(*, agent_id: int | None = None, no_agent: bool = False) -> dict[str, int]:
    """How many tickets are in each state, of one agent's, of nobody's or of all, in one
    query from the database's own counts: ``{"unassigned": 2, "assigned": 5, ...}``."""
    counts = ChatCount.objects.filter(kind=ChatKind.TICKET)
    if agent_id is not None:
        counts = counts.filter(agent_id=agent_id)
    elif no_agent:
        counts = counts.filter(agent__isnull=True)
    totals = counts.aggregate(
        **{state: Sum("n", filter=Q(ticket_state=state)) for state in TicketState.values}
    )
    return {state: int(totals[state] or 0) for state in TicketState.values}


def chats_in_tab(tab: str) -> QuerySet[Chat]:
    """A tab's chats, newest activity first, with what a list shows already joined."""
    return (
        Chat.objects.filter(tab_filter(tab))
        .select_related("contact", "agent", "channel", "department")
        .order_by(_LATEST_FIRST, "-created_at", "-id")
    )


def with_unread(chats: QuerySet[Chat]) -> QuerySet[Chat]:
    """Annotate ``unread``: the contact's messages since the agent last read the chat."""
    inbound = Message.objects.filter(chat=OuterRef("pk"), direction=Direction.IN).filter(
        Q(chat__agent_read_at__isnull=True) | Q(created_at__gt=OuterRef("agent_read_at"))
    )
    return chats.annotate(
        unread=Coalesce(
            Subquery(inbound.order_by().values("chat").annotate(n=Count("pk")).values("n")[:1]),
            0,
        )
    )


def open_chats_of(agent: User) -> QuerySet[Chat]:
    """The agent's open chats and open tickets, newest activity first."""
    return (
        Chat.objects.filter(agent=agent, status=ChatStatus.OPEN)
        .select_related("contact", "channel", "department")
        .order_by(_LATEST_FIRST, "-created_at", "-id")
    )


# --- Pages for the API -------------------------------------------------------------------

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


# --- The customer simulator ----------------------------------------------------------------

PHONE_HISTORY = 200

# What has reached the contact's phone: their own messages, and the desk's once the provider
# took them (a queued message has not left the desk; a failed one never arrived).
_ON_THE_PHONE = Q(direction=Direction.IN) | Q(
    direction=Direction.OUT,
    status__in=[DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ],
)


def sandbox_channels() -> QuerySet[Channel]:
    """The active sandbox channels, the first one made first: where the simulator writes."""
    return Channel.objects.filter(kind=ChannelKind.SANDBOX, is_active=True).order_by("id")


@dataclass(frozen=True)
class PhoneMessageState:
    """Just enough of a message on the phone to tell whether the screen changed."""

    id: int
    direction: str
    status: str | None
    provider_message_id: str | None


def _on_the_phone(channel: Channel, phone: str) -> QuerySet[Message]:
    return Message.objects.filter(_ON_THE_PHONE, channel=channel, chat__contact__phone=phone)


def phone_message_states(
    channel: Channel, phone: str, *, limit: int = PHONE_HISTORY
) -> list[PhoneMessageState]:
    """The last ``limit`` messages on a contact's phone for one channel, across all their
    chats, oldest first; ids and statuses only, cheap enough to poll every second."""
    rows = _on_the_phone(channel, phone).order_by("-created_at", "-id")[:limit]
    states = [
        PhoneMessageState(*row)
        for row in rows.values_list("id", "direction", "status", "provider_message_id")
    ]
    states.reverse()
    return states


def phone_messages(channel: Channel, phone: str, *, limit: int = PHONE_HISTORY) -> list[Message]:
    """The last ``limit`` messages on a contact's phone for one channel, across all their
    chats, oldest first: what the customer simulator shows."""
    rows = list(_on_the_phone(channel, phone).order_by("-created_at", "-id")[:limit])
    rows.reverse()
    return rows


# --- Comments and notifications ------------------------------------------------------------

NOTIFICATION_LIMIT = 100


def chat_comments(chat: Chat) -> QuerySet[Comment]:
    """A chat's comments, oldest first, with the ids of whom each mentions prefetched."""
    mentioned = User.objects.only("id").order_by("id")
    return (
        Comment.objects.filter(chat=chat)
        .prefetch_related(Prefetch("mentions", queryset=mentioned))
        .order_by("created_at", "id")
    )


def notifications_of(
    user: User, *, unread: bool = False, limit: int = NOTIFICATION_LIMIT
) -> list[Notification]:
    """A user's latest notifications, newest first; with ``unread``, only unread ones."""
    notifications = Notification.objects.filter(recipient=user)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return list(notifications.order_by("-created_at", "-id")[:limit])


def unread_notification_count(user: User) -> int:
    """How many of a user's notifications are unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
