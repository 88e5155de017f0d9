"""Pacing: each channel sends at most ``send_rate`` messages a second, counted across
every worker process that shares the database.

A channel's ``SendPace`` row holds the moment its next message may go out. A worker
reserves that slot with one conditional UPDATE (compare and set: it succeeds only if
nobody moved the slot since the worker read it), which moves the slot on by ``1/rate``.
Slots handed out are therefore spaced ``1/rate`` apart whatever the number of workers, on
PostgreSQL and on SQLite alike, and no lock is held while anyone waits. A worker then
sleeps until its slot; a slot further away than ``CHATDESK_SEND_PACE_WAIT`` is not
reserved at all, so the message is put back for later instead of holding a worker.

A provider that says the number is over its throughput (HTTP 429, Meta's 130429) pushes
the slot back for everyone: the whole number waits, not only the message that was told.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatdesk.core import clock
from chatdesk.providers.models import SendPace

# Compare-and-set rounds before giving up on a channel this busy; each lost round means
# another worker got a slot, so the channel is sending meanwhile.
MAX_ROUNDS = 50


@dataclass(frozen=True)
class Slot:
    """The outcome of asking for a send slot. ``reserved``: ``at`` is ours, go then.
    Otherwise the next free slot is past the longest wait; ask again at ``at``."""

    at: datetime
    reserved: bool

    def wait(self, now: datetime | None = None) -> float:
        """Seconds from ``now`` until the slot (zero if it has come)."""
        return max(0.0, (self.at - (now or clock.now())).total_seconds())


def interval(rate: int) -> timedelta:
    """The spacing of a channel's slots, rounded up to the microsecond so the rate is
    never exceeded."""
    return timedelta(microseconds=math.ceil(1_000_000 / max(1, rate)))


def _pace_row(channel_id: int) -> SendPace:
    pace, _ = SendPace.objects.get_or_create(channel_id=channel_id)
    return pace


def reserve(channel_id: int, *, rate: int, max_wait: float) -> Slot:
    """Reserve the channel's next send slot, if it comes within ``max_wait`` seconds."""
    step = interval(rate)
    limit = timedelta(seconds=max_wait)
    current = _pace_row(channel_id).next_slot_at
    for _ in range(MAX_ROUNDS):
        now = clock.now()
        start = now if current is None or current < now else current
        if start - now > limit:
            return Slot(at=start - limit, reserved=False)
        won = SendPace.objects.filter(channel_id=channel_id, next_slot_at=current)
        if current is None:
            won = SendPace.objects.filter(channel_id=channel_id, next_slot_at__isnull=True)
        if won.update(next_slot_at=start + step):
            return Slot(at=start, reserved=True)
        current = SendPace.objects.values_list("next_slot_at", flat=True).get(channel_id=channel_id)
    # Every round lost to other workers: the channel is at full pace; come back shortly.
    return Slot(at=clock.now() + step, reserved=False)


def hold(channel_id: int, *, until: datetime) -> bool:
    """No slot of the channel before ``until`` (the provider said to slow down). Only moves
    the slot later, never earlier; True if it moved."""
    _pace_row(channel_id)
    later = SendPace.objects.filter(channel_id=channel_id).exclude(next_slot_at__gte=until)
    return bool(later.update(next_slot_at=until))
