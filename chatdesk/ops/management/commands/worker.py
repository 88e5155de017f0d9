"""``chatdesk worker``: a task worker alone (outbound sends, retries, timers)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from chatdesk.ops import sweeper as sweeps
from chatdesk.providers.tasks import sweep_outbox

log = logging.getLogger(__name__)

# Seconds between attempts to reach the database again after losing it: doubling, capped.
RECONNECT_FIRST, RECONNECT_CAP = 0.5, 5.0


def sweep_once() -> None:
    """Run every sweep the apps registered (each app's ``sweeps.py``); one failing (a
    database hiccup) does not stop the others."""
    for sweep in sweeps.registered():
        try:
            sweep.run()
        except Exception:
            log.exception("the %s sweep failed; trying again later", sweep.name)
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
        sweep_outbox()  # what a worker stopped before this one left in the outbox
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
        wait = RECONNECT_FIRST
        while True:
            began = time.monotonic()
            try:
                call_command(
                    "db_worker",
                    queue_name=queue_name,
                    interval=interval,
                    batch=batch,
                    reload=False,
                    startup_delay=False,
                    verbosity=options["verbosity"],
                )
                return
            except (OperationalError, InterfaceError) as exc:
                # db_worker's loop gives up on any database error but a lock; a database
                # restarted or failed over would then stop the worker (and `chatdesk run`
                # with it). Keep going: the tasks are safe in the database, so pick them
                # up again once it answers. A SIGTERM meanwhile still stops the worker.
                if batch:
                    raise
                if time.monotonic() - began > 60:
                    wait = RECONNECT_FIRST  # it had been working: a new outage
                log.warning("the task worker lost the database (%s); retrying in %.1f s", exc, wait)
                connections.close_all()
                time.sleep(wait)
                wait = min(wait * 2, RECONNECT_CAP)
