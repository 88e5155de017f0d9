"""``chatdesk worker``: a task worker alone (outbound sends, retries, timers)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


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
        call_command(
            "db_worker",
            queue_name=queue_name,
            interval=interval,
            batch=batch,
            reload=False,
            startup_delay=False,
            verbosity=options["verbosity"],
        )
