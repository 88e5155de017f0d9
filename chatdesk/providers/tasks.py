"""Background tasks of the providers: delivering outbound messages."""

from __future__ import annotations

from django_tasks import task

from chatdesk.chats.services import outbound


@task()
def deliver_message(message_id: int) -> str:
    return outbound.deliver(message_id)


@task()
def recover_outbox() -> dict[str, int]:
    return outbound.recover_outbox()
