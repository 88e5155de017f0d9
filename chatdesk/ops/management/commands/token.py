"""``chatdesk token USERNAME``: print a new API token, and nothing else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatdesk.accounts.models import User
from chatdesk.accounts.services import issue_api_token


class Command(BaseCommand):
    help = (
        "Create a new API token for USERNAME and print it on stdout, alone on one line "
        "(use it as 'Authorization: Bearer <token>'). Only its hash is kept: it is shown "
        "this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Whose token it is.")
        parser.add_argument(
            "--name", default="cli", help="A label to tell the token apart (default: cli)."
        )

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is named {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is deactivated; a token would not work.")
        self.stdout.write(issue_api_token(user=user, name=name))
