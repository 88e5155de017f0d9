"""``chatdesk createuser USERNAME --role ROLE [...]``: create an agent, supervisor or admin."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatdesk.accounts.models import Role
from chatdesk.core.errors import DeskError
from chatdesk.flows.people import create_user
from chatdesk.routing.models import Department


class Command(BaseCommand):
    help = (
        "Create a user of the desk. Without --password the user cannot sign in until a "
        "password is set (an API token from 'chatdesk token' still works)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The name to sign in with.")
        parser.add_argument(
            "--role", required=True, choices=Role.values, help="What the user does on the desk."
        )
        parser.add_argument(
            "--password", help="The sign-in password; it must pass the password checks."
        )
        parser.add_argument(
            "--allow-weak-password",
            action="store_true",
            help="Skip the password strength checks (for test set-ups only).",
        )
        parser.add_argument(
            "--department",
            action="append",
            default=[],
            dest="departments",
            metavar="NAME",
            help="A department the user belongs to, by name; repeat for several.",
        )
        parser.add_argument("--display-name", default="", help="The name others see.")
        parser.add_argument(
            "--capacity", type=int, help="How many open chats an agent may hold at once."
        )

    def handle(
        self,
        *args: Any,
        username: str,
        role: str,
        password: str | None,
        allow_weak_password: bool,
        departments: list[str],
        display_name: str,
        capacity: int | None,
        **options: Any,
    ) -> None:
        found = [_department_named(name) for name in departments]
        try:
            user = create_user(
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                capacity=capacity,
                department_ids=[d.pk for d in found],
                check_password_strength=not allow_weak_password,
            )
        except DeskError as exc:
            raise CommandError(exc.detail) from exc
        where = f" in {', '.join(d.name for d in found)}" if found else ""
        login = "" if user.has_usable_password() else " with no password (cannot sign in yet)"
        self.stdout.write(f"Created {user.role} {user.username!r} ({user.name}){where}{login}.")


def _department_named(name: str) -> Department:
    department = Department.objects.filter(name__iexact=name.strip()).first()
    if department is None:
        known = ", ".join(Department.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"No department is named {name!r} (known: {known}).")
    return department
