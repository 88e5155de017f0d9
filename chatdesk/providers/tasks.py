"""Background tasks of the providers: delivering outbound messages, and scheduling them.

The task paths (``chatdesk.providers.tasks.deliver_message``, ``.recover_outbox``) never
move: queued rows name them. chatdesk.providers.delivery does the work; this module turns
its "due again in N seconds" into a queued task."""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.db import transaction
from django_tasks import task

from chatdesk.core import clock
from chatdesk.providers import delivery


def enqueue_delivery(message_id: int, *, delay: float = 0.0) -> None:
    """Queue the message's delivery (after ``delay`` seconds)."""
    if delay > 0:
        deliver_message.using(run_after=clock.now() + timedelta(seconds=delay)).enqueue(message_id)
    else:
        deliver_message.enqueue(message_id)


def deliver(message_id: int, *, client: httpx.Client | None = None) -> str:
    """One delivery attempt (see ``delivery.attempt``), with the next one queued after
    commit when the message is due again. Returns what happened, for logs."""
    result = delivery.attempt(message_id, client=client)
    retry_in = result.retry_in
    if retry_in is not None:
        transaction.on_commit(lambda: enqueue_delivery(message_id, delay=retry_in))
    return result.outcome


def sweep_outbox() -> dict[str, int]:
    """The outbox sweep: settle interrupted deliveries, and queue again those whose task
    was lost."""
    recovery = delivery.recover_outbox()
    for message_id in recovery.due:
        enqueue_delivery(message_id)
    return recovery.summary()


@task()
def deliver_message(message_id: int) -> str:
    return deliver(message_id)


@task()
def recover_outbox() -> dict[str, int]:
    return sweep_outbox()
