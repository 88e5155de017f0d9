"""What every list of chats shares: the order (newest activity first), the unread count,
and the read that pairs a list with the newest live-event seq."""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf

from chatdesk.chats.models import Chat, Direction, Message
from chatdesk.realtime.models import LiveEvent

# Chats with no message yet sort last on SQLite and PostgreSQL alike.
LATEST_FIRST = F("last_message_at").desc(nulls_last=True)


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


# The agent's and the supervisor's lists are fragments that htmx fetches again when live.js
# reports a change; the page renders the same fragments inline, with the newest live-event
# seq in <body data-live-seq>, from which live.js asks the event stream for everything that
# happened after the page was read.

# A list shows each chat's latest message. Customer text: the templates autoescape it.
DELETED_PREVIEW = "[Message deleted]"
_LATEST_MESSAGE = Message.objects.filter(chat=OuterRef("pk")).order_by("-created_at", "-id")

# What the preview says of it: its text, or that the customer deleted it (the deleted text
# is for supervisors only, and lists are every role's).
_LATEST_SHOWN = _LATEST_MESSAGE.annotate(
    shown=Case(
        When(media__has_key="revoked_at", then=Value(DELETED_PREVIEW)),
        default=F("text"),
        output_field=TextField(),
    )
).values("shown")[:1]

# Who wrote it, for the preview's "You:" or name (User.name: the display name, else the
# username); empty for the contact's messages and the desk's automatic replies.
_LATEST_AUTHOR_NAME = _LATEST_MESSAGE.annotate(
    author_name=Coalesce(NullIf(F("author__display_name"), Value("")), F("author__username"))
).values("author_name")[:1]

# The newest seq, read inside the list's own query: one snapshot, so the list cannot be
# older than the seq, and the page costs no extra query.
_NEWEST_SEQ = Subquery(
    LiveEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq")[:1]
)


def newest_seq() -> int:
    """The seq of the newest live event, 0 before the first."""
    seq: int | None = (
        LiveEvent.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    return seq or 0


def read_lists(chats: QuerySet[Chat], limit: int | None = None) -> tuple[list[Chat], int]:
    """The chats, each with ``last_text``, ``last_direction``, ``last_author_id`` and
    ``last_author_name`` (of their latest message), and the newest live-event
    seq as of that read. Read the lists a page shows first: whatever is read after them is
    at least as new as the seq.

    An empty list carries no seq; then the seq is read on its own and the list again after
    it (nothing read before the seq may stand beside it)."""
    if limit is not None:
        # Pick the page's ids first, then join what the rows show to those alone: joined
        # before the cut, every chat of the list would be joined to its contact (the planner
        # reads all the contacts to do it) only for most of them to be dropped.
        chats = chats.filter(pk__in=chats.values("pk")[:limit])
    annotated: QuerySet[Chat] = chats.annotate(
        last_text=Subquery(_LATEST_SHOWN),
        last_direction=Subquery(_LATEST_MESSAGE.values("direction")[:1]),
        last_author_id=Subquery(_LATEST_MESSAGE.values("author_id")[:1]),
        last_author_name=Subquery(_LATEST_AUTHOR_NAME),
        live_seq=_NEWEST_SEQ,
    )
    if limit is not None:
        annotated = annotated[:limit]
    rows = list(annotated)
    if rows:
        seq: int = getattr(rows[0], "live_seq", None) or 0
        return rows, seq
    seq = newest_seq()
    return list(annotated.all()), seq
