"""``chatdesk worker``: a task worker alone (outbound sends, retries, timers)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from chatdesk.accounts.services import expire_presence
from chatdesk.chats.services.lifecycle import close_inactive_chats
from chatdesk.chats.services.outbound import recover_outbox
from chatdesk.realtime.events import prune_old_events, sequence_stragglers
from chatdesk.routing.assignment import reassign_unanswered

log = logging.getLogger(__name__)


SWEEPS: tuple[tuple[str, Callable[[], object]], ...] = (
    ("outbox", recover_outbox),  # interrupted deliveries: a lost task, a worker killed mid-send
    ("presence", expire_presence),  # dead connections; agents gone past the grace period
    ("inactivity", close_inactive_chats),  # live chats with no message for too long
    ("unanswered", reassign_unanswered),  # first messages left unanswered (when enabled)
    ("live events", sequence_stragglers),  # events whose process died before numbering them
    ("event log", prune_old_events),  # live events older than the retention
)


def sweep_once() -> None:
    """Run every sweep; one failing (a database hiccup) does not stop the others."""
    for name, sweep in SWEEPS:
        try:
            sweep()
        except Exception:
            log.exception("the %s sweep failed; trying again later", name)
        finally:
            close_old_connections()


def _sweep_forever(stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        sweep_once()


class Command(BaseCommand):
    help = (
        "Run a task worker (django-tasks-db's db_worker) on every queue until Ctrl-C or "
        "SIGTERM; a task under way is finished first. Run as many as you like against "
        "PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue-name",
            default="*",
            help="The queues to work, comma-separated; '*' for all (default: %(default)s).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait when there is nothing to do (default: %(default)s).",
        )
        parser.add_argument("--batch", action="store_true", help="Run what is due now, then exit.")

    def handle(
        self, *args: Any, queue_name: str, interval: float, batch: bool, **options: Any
    ) -> None:
        recover_outbox()
        stop = threading.Event()
        if not batch:
            sweeper = threading.Thread(
                target=_sweep_forever,
                args=(stop, float(settings.CHATDESK_OUTBOX_SWEEP_EVERY)),
                name="sweeper",
                daemon=True,
            )
            sweeper.start()
        try:
            self._work(queue_name=queue_name, interval=interval, batch=batch, options=options)
        finally:
            stop.set()

    def _work(
        self, *, queue_name: str, interval: float, batch: bool, options: dict[str, Any]
    ) -> None:
        call_command(
            "db_worker",
            queue_name=queue_name,
            interval=interval,
            batch=batch,
            reload=False,
            startup_delay=False,
            verbosity=options["verbosity"],
        )
