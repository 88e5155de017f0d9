"""``chatdesk serve``: the web server alone (HTTP and WebSocket), for scale-out."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chatdesk.core.supervise import add_listen_arguments, serve_web


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
        **options: Any,
    ) -> None:
        serve_web(
            host=host, port=port, forwarded_allow_ips=forwarded_allow_ips, log_level=log_level
        )
