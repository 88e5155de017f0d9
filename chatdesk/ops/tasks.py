"""Background tasks of the core: only ``ping``, which proves a worker is running."""

from __future__ import annotations

from django_tasks import task


@task()
def ping(answer: str = "pong") -> str:
    """Touch nothing and return ``answer``: a health check for the task worker.

    ``chatdesk shell -c "from chatdesk.ops.tasks import ping; print(ping.enqueue().id)"``
    queues one; a running ``chatdesk worker`` marks it successful within a second or two.
    """
    return answer
