"""``chatdesk demo``: load the demo desk (idempotent) and print its logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from chatdesk.demo.loader import describe, load_demo


class Command(BaseCommand):
    help = (
        "Load demo data: the Sales and Support departments, four agents, a supervisor and "
        "an admin (with demo passwords, printed at the end), a sandbox channel with "
        "templates, business hours and sample chats and tickets. Safe to run again: what "
        "already exists is left as it is."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = load_demo()
        self.stdout.write(describe(summary))
