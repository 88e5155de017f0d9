"""Publishing live events: written in the service's transaction, numbered and broadcast
only after it commits. A rolled-back change leaves nothing behind and sends nothing.

Services call ``publish`` (or ``chat_event``) next to the rows they change. After the
commit, ``sequence_pending`` numbers every pending event under a lock held until its own
commit, so ``seq`` has no gap and follows commit order, then hands the batch to
``transport.broadcast``. If the process dies between the two commits, the worker's sweep
numbers and broadcasts what was left (``sequence_stragglers``). A hot path that owns its
transaction (an inbound message) numbers its events as that transaction's last step
instead (``number_before_commit``): the same lock, held to the same kind of commit, one
transaction fewer.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.db.models.functions import JSONObject

from chatdesk.accounts.models import User
from chatdesk.chats.models import (
    Chat,
    ChatKind,
    ChatStatus,
    Comment,
    Message,
    Notification,
    TicketState,
)
from chatdesk.core import clock
from chatdesk.realtime import payloads, transport
from chatdesk.realtime.models import EventType, LiveEvent

log = logging.getLogger(__name__)

# Events numbered per sequencer transaction; more wait for the next round.
BATCH = 500

# An arbitrary constant naming our PostgreSQL advisory lock.
SEQUENCER_LOCK = 0x63686174  # "chat"

_local = threading.local()


def publish(
    type: EventType | str,
    *,
    data: dict[str, Any],
    chat_id: int | None = None,
    previous_agent_id: int | None = None,
    previous_department_id: int | None = None,
    user_id: int | None = None,
    everyone: bool = False,
) -> LiveEvent:
    """Record one event in the current transaction; it goes out after the commit. An
    event with a ``chat_id`` is addressed to who may see that chat when it is numbered
    (plus the previous agent and queue given here); a ``chat.*`` event's ``data`` is the
    chat at that moment, with ``data`` given here added (a transfer's note, say)."""
    event = LiveEvent.objects.create(
        type=str(type),
        data=data,
        chat_id=chat_id,
        previous_agent_id=previous_agent_id,
        previous_department_id=previous_department_id,
        user_id=user_id,
        everyone=everyone,
        created_at=clock.now(),
    )
    _local.pending = True
    transaction.on_commit(_after_commit, robust=True)
    return event


def queue_department(chat: Chat) -> int | None:
    """The department whose agents see this chat as an unassigned ticket, if any."""
    if (
        chat.kind == ChatKind.TICKET
        and chat.status == ChatStatus.OPEN
        and chat.ticket_state == TicketState.UNASSIGNED
    ):
        return chat.department_id
    return None


def chat_event(
    type: EventType | str,
    chat: Chat,
    data: dict[str, Any] | None = None,
    *,
    previous_agent_id: int | None = None,
    previous_department_id: int | None = None,
) -> LiveEvent:
    """An event about a chat; ``previous_*``: the agent and the ticket queue the chat
    just left, so their screens can drop it."""
    return publish(
        type,
        data=data or {},
        chat_id=chat.pk,
        previous_agent_id=previous_agent_id,
        previous_department_id=previous_department_id,
    )


def _after_commit() -> None:
    # Every publish registers this; the first run after a commit numbers them all.
    if not getattr(_local, "pending", False):
        return
    _local.pending = False
    sequence_pending()


def _lock() -> None:
    """Serialise sequencers until the end of the transaction. SQLite needs nothing: our
    transactions there begin IMMEDIATE, so writers already take turns."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])


# What addressing needs of an event's chat, read in the same statement as the events.
_AUDIENCE = Subquery(
    Chat.objects.filter(pk=OuterRef("chat_id")).values(
        audience=JSONObject(
            agent_id="agent_id",
            kind="kind",
            status="status",
            ticket_state="ticket_state",
            department_id="department_id",
        )
    )[:1]
)
# The last number given, read with the events; meaningful only under the lock.
_LAST_SEQ = Subquery(LiveEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq")[:1])


def _number_locked(older_than: timedelta | None) -> list[LiveEvent]:
    """Lock, then number and address the oldest pending events, in the caller's
    transaction: the lock is released by its commit."""
    _lock()
    pending = LiveEvent.objects.filter(seq__isnull=True)
    if older_than is not None:
        pending = pending.filter(created_at__lte=clock.now() - older_than)
    batch: list[LiveEvent] = list(
        pending.annotate(audience=_AUDIENCE, last_seq=_LAST_SEQ).order_by("id")[:BATCH]
    )
    if not batch:
        return []
    _address(batch)
    last = getattr(batch[0], "last_seq", None) or 0
    for event in batch:
        last += 1
        event.seq = last
    _save_numbers(batch)
    return batch


_SAVE_NUMBERS = (
    "UPDATE realtime_liveevent SET seq = %s, agent_id = %s, previous_agent_id = %s, "
    "department_id = %s, data = %s WHERE id = %s"
)


def _save_numbers(batch: list[LiveEvent]) -> None:
    """Write each event's number, audience and data: one prepared UPDATE run for every
    event. (``bulk_update`` builds a CASE per column per row, which cost more than every
    other statement of an inbound message together.)"""
    data_field = LiveEvent._meta.get_field("data")
    rows = [
        (
            event.seq,
            event.agent_id,
            event.previous_agent_id,
            event.department_id,
            data_field.get_db_prep_save(event.data, connection),
            event.pk,
        )
        for event in batch
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_SAVE_NUMBERS, rows)


def _number_batch(older_than: timedelta | None) -> list[LiveEvent]:
    with transaction.atomic():
        return _number_locked(older_than)


def _address(batch: list[LiveEvent]) -> None:
    """Fill in each chat event's audience, and each ``chat.*`` event's chat, from the
    chats as committed. The audience came with the events; only ``chat.*`` events need
    the whole chat."""
    chat_ids = {
        event.chat_id
        for event in batch
        if event.chat_id is not None and event.type.startswith("chat.")
    }
    chats = Chat.objects.select_related("contact", "channel").in_bulk(chat_ids) if chat_ids else {}
    for event in batch:
        audience: dict[str, Any] | None = getattr(event, "audience", None)
        if audience is None:
            continue  # no chat, or one that is gone
        event.agent_id = audience["agent_id"]
        event.department_id = _queue_department_of(audience)
        if event.previous_agent_id == event.agent_id:
            event.previous_agent_id = None
        chat = chats.get(event.chat_id) if event.chat_id is not None else None
        if chat is not None and event.type.startswith("chat."):
            event.data = {**payloads.chat_data(chat), **event.data}


def _queue_department_of(audience: dict[str, Any]) -> int | None:
    if (
        audience["kind"] == ChatKind.TICKET
        and audience["status"] == ChatStatus.OPEN
        and audience["ticket_state"] == TicketState.UNASSIGNED
    ):
        return int(audience["department_id"]) if audience["department_id"] is not None else None
    return None


def number_before_commit() -> None:
    """Number the events pending so far as the last step of the caller's transaction,
    when it is the outermost one, instead of in a transaction of its own after the
    commit: the lock is then held from here to the commit, as the sequencer's own
    transaction would hold it, and the request saves that second transaction. The
    guarantees are the same: numbers are given under the lock, in order, to events
    committed together with them (a rollback takes the numbers back too), and they go
    out only after the commit. Inside an enclosing transaction this does nothing and the
    sequencer runs after the outermost commit, as for any other service."""
    if not getattr(_local, "pending", False) or len(connection.atomic_blocks) != 1:
        return
    batch = _number_locked(None)
    # A full batch may leave more behind: the sequencer after the commit takes the rest.
    _local.pending = len(batch) >= BATCH
    if batch:
        frames = [as_dict(event) for event in batch]
        transaction.on_commit(lambda: transport.broadcast(frames), robust=True)


def sequence_pending(*, older_than: timedelta | None = None) -> int:
    """Number every committed, unnumbered event and broadcast them; returns how many."""
    total = 0
    while True:
        batch = _number_batch(older_than)
        if batch:
            total += len(batch)
            transport.broadcast([as_dict(event) for event in batch])
        if len(batch) < BATCH:
            return total


def sequence_stragglers() -> int:
    """The worker's sweep: events whose process died between its commit and numbering."""
    return sequence_pending(older_than=timedelta(seconds=2))


def prune_old_events() -> int:
    """Forget events older than the retention, always keeping the newest (it carries the
    current ``seq``). Returns how many were deleted."""
    cutoff = clock.now() - timedelta(days=settings.CHATDESK_EVENT_RETENTION_DAYS)
    newest = LiveEvent.objects.aggregate(last=Max("seq"))["last"]
    if newest is None:
        return 0
    deleted, _ = LiveEvent.objects.filter(created_at__lt=cutoff, seq__lt=newest).delete()
    return deleted


def log_bounds() -> tuple[int | None, int | None]:
    """The oldest and newest ``seq`` still kept."""
    numbered = LiveEvent.objects.filter(seq__isnull=False)
    bounds = numbered.aggregate(first=Min("seq"), last=Max("seq"))
    return bounds["first"], bounds["last"]


def latest_seq() -> int:
    return LiveEvent.objects.aggregate(last=Max("seq"))["last"] or 0


def as_dict(event: LiveEvent) -> dict[str, Any]:
    """The event as it travels between processes: the frame plus who may see it."""
    return {
        "seq": event.seq,
        "type": event.type,
        "chat_id": event.chat_id,
        "data": event.data,
        "agent_id": event.agent_id,
        "previous_agent_id": event.previous_agent_id,
        "department_id": event.department_id,
        "previous_department_id": event.previous_department_id,
        "user_id": event.user_id,
        "everyone": event.everyone,
    }


def frame(event: dict[str, Any]) -> dict[str, Any]:
    """What a client receives: CONTRACT.md's ``{seq, type, chat_id, data}``."""
    return {
        "seq": event["seq"],
        "type": event["type"],
        "chat_id": event["chat_id"],
        "data": event["data"],
    }


# --- What services publish ---------------------------------------------------------------


def message_event(type: EventType | str, message: Message) -> LiveEvent:
    """``message.created`` or ``message.status``: the message as it now is."""
    return publish(type, data=payloads.message_data(message), chat_id=message.chat_id)


def comment_created(comment: Comment, mention_ids: list[int]) -> LiveEvent:
    return publish(
        EventType.COMMENT_CREATED,
        data=payloads.comment_data(comment, mention_ids),
        chat_id=comment.chat_id,
    )


def notification_created(notification: Notification) -> LiveEvent:
    """For its recipient alone."""
    return publish(
        EventType.NOTIFICATION_CREATED,
        data=payloads.notification_data(notification),
        chat_id=notification.chat_id,
        user_id=notification.recipient_id,
    )


def user_changed(user: User) -> LiveEvent:
    """The user's role, departments or active flag changed: every hub re-addresses that
    user's sockets at this point in the order of events (closing them if deactivated).
    Internal: never sent to a client."""
    from chatdesk.realtime.visibility import viewer_data, viewer_for

    return publish(EventType.USER_CHANGED, data=viewer_data(viewer_for(user)), user_id=user.pk)


def presence_changed(user: User, *, online: bool) -> LiveEvent:
    """For everyone signed in: agents pick transfer targets, supervisors watch the team."""
    return publish(
        EventType.PRESENCE_CHANGED, data=payloads.presence_data(user, online=online), everyone=True
    )
