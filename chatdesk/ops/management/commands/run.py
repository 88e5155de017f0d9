"""``chatdesk run``: migrate, then the web server and a task worker in one process group."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from chatdesk.demo.loader import describe, load_demo
from chatdesk.ops.processes import add_listen_arguments, desk_children, supervise


class Command(BaseCommand):
    help = (
        "Apply migrations, then run the web server ('chatdesk serve') and a task worker "
        "('chatdesk worker') as child processes until Ctrl-C or SIGTERM, which stops both. "
        "If either one dies, the other is stopped and the exit code is non-zero. With "
        "--demo, load the demo data first (safe to repeat) and print its logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_listen_arguments(parser)
        parser.add_argument(
            "--demo", action="store_true", help="Load the demo data and print its logins first."
        )

    def handle(self, *args: Any, host: str, port: int, demo: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        if demo:
            self.stdout.write(describe(load_demo()))
        shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        self.stdout.write(f"Chat Desk: http://{shown}:{port}/ (Ctrl-C stops it)")
        self.stdout.flush()
        # The children open their own connections; ours would only sit idle.
        connections.close_all()
        code = supervise(desk_children(host=host, port=port))
        if code:
            sys.exit(code)
