"""Numbering live events: after the commit that wrote them, under a lock, in order.

Services write events with ``realtime.log`` in their own transaction. After the commit,
``sequence_pending`` numbers every pending event under a lock held until its own commit,
so ``seq`` has no gap and follows commit order, fills in each chat event's audience from
the chat as committed (``chats.access``), then hands the batch to ``transport.broadcast``.
If the process dies between the two commits, the worker's sweep numbers and broadcasts
what was left (``sequence_stragglers``). A hot path that owns its transaction (an inbound
message) numbers its events as that transaction's last step instead
(``number_before_commit``): the same lock, held to the same kind of commit, one
transaction fewer. The realtime app installs both in ``log`` at start-up (``install``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import JSONObject

from chatdesk.chats import access
from chatdesk.chats.models import Chat
from chatdesk.chats.window import contact_window
from chatdesk.core import clock
from chatdesk.realtime import log as live_log
from chatdesk.realtime import transport
from chatdesk.realtime.log import ChatFields, as_dict, when
from chatdesk.realtime.models import LiveEvent

# Events numbered per sequencer transaction; more wait for the next round.
BATCH = 500

# An arbitrary constant naming our PostgreSQL advisory lock.
SEQUENCER_LOCK = 0x63686174  # "chat"


def install() -> None:
    """Make ``log`` number events with this sequencer (the realtime app's ``ready``)."""
    live_log.use_sequencer(after_commit=sequence_pending, before_commit=number_before_commit)


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
        fields: dict[str, Any] | None = getattr(event, "audience", None)
        if fields is None:
            continue  # no chat, or one that is gone
        audience = access.audience(
            agent_id=fields["agent_id"],
            kind=fields["kind"],
            ticket_state=fields["ticket_state"],
            department_id=fields["department_id"],
        )
        event.agent_id = audience.agent_id
        event.department_id = audience.queue_department_id
        if event.previous_agent_id == event.agent_id:
            event.previous_agent_id = None
        chat = chats.get(event.chat_id) if event.chat_id is not None else None
        if chat is not None and event.type.startswith("chat."):
            event.data = {**chat_data(chat), **event.data}


def chat_data(chat: Chat) -> ChatFields:
    """A ``chat.*`` event's data: the same fields the REST API returns for the chat."""
    contact = chat.contact
    window = contact_window(chat)
    return {
        "id": chat.pk,
        "kind": chat.kind,
        "status": chat.status,
        "ticket_state": chat.ticket_state,
        "channel_id": chat.channel_id,
        "channel_kind": chat.channel.kind,
        "contact": {
            "id": contact.pk,
            "phone": contact.phone,
            "name": contact.name,
            "provider_user_id": contact.provider_user_id,
            "username": contact.username,
            "email": contact.email,
        },
        "agent_id": chat.agent_id,
        "department_id": chat.department_id,
        "created_at": when(chat.created_at),
        "queued_at": when(chat.queued_at),
        "assigned_at": when(chat.assigned_at),
        "first_response_at": when(chat.first_response_at),
        "last_inbound_at": when(chat.last_inbound_at),
        "last_message_at": when(chat.last_message_at),
        "closed_at": when(chat.closed_at),
        "closed_by": chat.closed_by,
        "closed_by_user_id": chat.closed_by_user_id,
        "window_open": window.is_open,
        "window_expires_at": when(window.expires_at),
        "continues_chat_id": chat.continues_id,
    }


def number_before_commit() -> None:
    """Number the events pending so far as the last step of the caller's transaction,
    when it is the outermost one, instead of in a transaction of its own after the
    commit: the lock is then held from here to the commit, as the sequencer's own
    transaction would hold it, and the request saves that second transaction. The
    guarantees are the same: numbers are given under the lock, in order, to events
    committed together with them (a rollback takes the numbers back too), and they go
    out only after the commit. Inside an enclosing transaction this does nothing and the
    sequencer runs after the outermost commit, as for any other service."""
    if not live_log.has_pending() or len(connection.atomic_blocks) != 1:
        return
    batch = _number_locked(None)
    # A full batch may leave more behind: the sequencer after the commit takes the rest.
    live_log.set_pending(len(batch) >= BATCH)
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
