"""``chatdesk serve``: the web server alone (HTTP and WebSocket), for scale-out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatdesk.ops.processes import add_listen_arguments, reach_warning, serve_web


class Command(BaseCommand):
    help = (
        "Serve the desk's pages, API, webhooks and WebSocket with uvicorn, until Ctrl-C or "
        "SIGTERM. Runs no task worker: start 'chatdesk worker' too (or use 'chatdesk run')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_listen_arguments(parser)
        parser.add_argument(
            "--forwarded-allow-ips",
            default=None,
            help=(
                "Comma-separated proxy addresses whose X-Forwarded-* headers are trusted "
                "(default: uvicorn's FORWARDED_ALLOW_IPS, else 127.0.0.1)."
            ),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help=(
                "Web server processes sharing the port, each using one core (default: "
                "%(default)s). More than one needs REDIS_URL for live events to cross "
                "between them at once; without it they read the event log four times a second."
            ),
        )
        parser.add_argument(
            "--log-level",
            default="info",
            choices=["critical", "error", "warning", "info", "debug", "trace"],
            help="uvicorn's log level (default: %(default)s).",
        )

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        forwarded_allow_ips: str | None,
        log_level: str,
        workers: int,
        **options: Any,
    ) -> None:
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        warning = reach_warning(host, settings.ALLOWED_HOSTS)
        if warning:
            self.stderr.write(warning)
        serve_web(
            host=host,
            port=port,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level=log_level,
            workers=workers,
        )
