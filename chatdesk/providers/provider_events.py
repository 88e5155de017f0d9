"""What a provider sent that the desk could not store as a message or a status, kept raw
with the reason for the admins (``ProviderEvent``)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable

from chatdesk.core import clock
from chatdesk.providers.base import Unreadable
from chatdesk.providers.models import Channel, ProviderEvent, ProviderEventKind

log = logging.getLogger(__name__)


def _digest(item: Unreadable) -> str:
    canonical = json.dumps(item.payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def keep_unreadable(*, channel: Channel, items: Iterable[Unreadable]) -> int:
    """Keep each unreadable item once per channel (a retried webhook adds nothing), in one
    statement; how many items were handed in."""
    now = clock.now()
    rows = {
        digest: ProviderEvent(
            channel=channel,
            kind=ProviderEventKind.UNREADABLE,
            reason=item.reason,
            provider_message_id=item.provider_message_id,
            payload=item.payload,
            digest=digest,
            received_at=now,
        )
        for item in items
        if (digest := _digest(item))
    }
    if rows:
        ProviderEvent.objects.bulk_create(list(rows.values()), ignore_conflicts=True)
        for row in rows.values():
            log.warning("channel %s sent an item the desk cannot read: %s", channel.pk, row.reason)
    return len(rows)
