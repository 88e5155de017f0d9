"""The chat timeline: one permanent ChatEvent row for every change, with who did it.

One ``record_<kind>`` per kind of event, with the fields that kind carries; ``by`` is the
acting user (None: the contact or the system). ``at`` is for the demo loader, which
writes a history in the past; everyone else leaves it to the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatEvent, EventKind
from chatdesk.core import clock


def _record(
    chat: Chat, kind: EventKind, by: User | None, at: datetime | None, data: dict[str, Any]
) -> ChatEvent:
    return ChatEvent.objects.create(
        chat=chat, kind=kind, actor=by, data=data, created_at=at or clock.now()
    )


def record_created(
    *, chat: Chat, by: User | None, channel: str, at: datetime | None = None
) -> ChatEvent:
    """The chat started (``channel`` is its channel's kind)."""
    return _record(chat, EventKind.CREATED, by, at, {"channel": channel})


def record_queued(
    *,
    chat: Chat,
    by: User | None,
    department_id: int | None = None,
    from_agent_id: int | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> ChatEvent:
    """The chat waits in its department's queue: a new chat with every agent full
    (``department_id``), or one whose agent went away (``from_agent_id`` and ``reason``)."""
    data: dict[str, Any] = {}
    if from_agent_id is None:
        data["department_id"] = department_id
    else:
        data["from_agent_id"] = from_agent_id
    if reason is not None:
        data["reason"] = reason
    return _record(chat, EventKind.QUEUED, by, at, data)


def _handover(
    agent_id: int,
    from_agent_id: int | None,
    note: str | None,
    from_queue: bool,
    reason: str | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"agent_id": agent_id, "from_agent_id": from_agent_id}
    if note is not None:
        data["note"] = note
    if from_queue:
        data["from_queue"] = True
    if reason is not None:
        data["reason"] = reason
    return data


def record_assigned(
    *,
    chat: Chat,
    by: User | None,
    agent_id: int,
    from_agent_id: int | None = None,
    note: str | None = None,
    from_queue: bool = False,
    reason: str | None = None,
    at: datetime | None = None,
) -> ChatEvent:
    """The chat went to an agent: routing (``by`` None, maybe ``from_queue``, or the
    ``reason`` "reengagement_reply": to the agent who re-engaged the contact) or a
    supervisor (with their ``note``)."""
    data = _handover(agent_id, from_agent_id, note, from_queue, reason)
    return _record(chat, EventKind.ASSIGNED, by, at, data)


def record_transferred(
    *,
    chat: Chat,
    by: User | None,
    agent_id: int,
    from_agent_id: int | None,
    note: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> ChatEvent:
    """The chat moved from one agent to another: a person's transfer (with its ``note``)
    or routing's (``reason``: "unanswered")."""
    data = _handover(agent_id, from_agent_id, note, False, reason)
    return _record(chat, EventKind.TRANSFERRED, by, at, data)


def record_ticket_accepted(
    *,
    chat: Chat,
    by: User,
    agent_id: int,
    from_agent_id: int | None = None,
    at: datetime | None = None,
) -> ChatEvent:
    """An agent took an unassigned ticket."""
    data = _handover(agent_id, from_agent_id, None, False, None)
    return _record(chat, EventKind.TICKET_ACCEPTED, by, at, data)


def record_ticketed(
    *, chat: Chat, by: User | None, reason: str, at: datetime | None = None
) -> ChatEvent:
    """The new chat became an unassigned ticket ("out_of_hours", "nobody_online")."""
    return _record(chat, EventKind.TICKETED, by, at, {"reason": reason})


def record_commented(
    *,
    chat: Chat,
    by: User,
    comment_id: int,
    mentions: list[int],
    at: datetime | None = None,
) -> ChatEvent:
    return _record(
        chat, EventKind.COMMENTED, by, at, {"comment_id": comment_id, "mentions": mentions}
    )


def record_closed(
    *, chat: Chat, by: User | None, closed_by: str, at: datetime | None = None
) -> ChatEvent:
    return _record(chat, EventKind.CLOSED, by, at, {"closed_by": closed_by})


def record_reopened(*, chat: Chat, by: User, at: datetime | None = None) -> ChatEvent:
    return _record(chat, EventKind.REOPENED, by, at, {})


def record_reengaged(
    *,
    chat: Chat,
    by: User,
    message_id: int,
    template: str | None,
    at: datetime | None = None,
) -> ChatEvent:
    """A message into a closed chat or a ticket (``template``: its name, if one)."""
    data = {"message_id": message_id, "template": template}
    return _record(chat, EventKind.REENGAGED, by, at, data)


def record_reengagement_reply(
    *,
    chat: Chat,
    continues_chat_id: int,
    reengaged_by_id: int | None,
    message_id: int | None,
    at: datetime | None = None,
) -> ChatEvent:
    """The contact started this chat by answering a re-engagement of an earlier one
    (``continues_chat_id``): who re-engaged them, and with which message."""
    data = {
        "continues_chat_id": continues_chat_id,
        "reengaged_by_id": reengaged_by_id,
        "message_id": message_id,
    }
    return _record(chat, EventKind.REENGAGEMENT_REPLY, None, at, data)


def record_opted_out(
    *, chat: Chat, by: User | None, keyword: str, at: datetime | None = None
) -> ChatEvent:
    return _record(chat, EventKind.OPTED_OUT, by, at, {"keyword": keyword})


def record_opted_in(
    *, chat: Chat, by: User | None, keyword: str, at: datetime | None = None
) -> ChatEvent:
    return _record(chat, EventKind.OPTED_IN, by, at, {"keyword": keyword})
