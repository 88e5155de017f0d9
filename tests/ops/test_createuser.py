"""``chatdesk createuser``: what it creates, and that a refusal creates nothing."""

from __future__ import annotations

from typing import Any

from tests.support.processes import Desk

PASSWORD = "correct-horse-battery"


def _departments(desk: Desk, *names: str) -> None:
    desk.python(
        "from chatdesk.routing.models import Department\n"
        + "".join(f"Department.objects.create(name={name!r})\n" for name in names)
    )


def _users(desk: Desk) -> dict[str, Any]:
    return dict(
        desk.query(
            f"""
            import json
            from chatdesk.accounts.models import User
            print(json.dumps({{u.username: {{
                "role": u.role, "display_name": u.display_name, "capacity": u.capacity,
                "departments": sorted(d.name for d in u.departments.all()),
                "usable_password": u.has_usable_password(),
                "password_ok": u.check_password({PASSWORD!r}),
                "is_staff": u.is_staff, "is_superuser": u.is_superuser,
            }} for u in User.objects.all()}}))
            """
        )
    )


def test_creates_an_agent_in_departments(desk: Desk) -> None:
    _departments(desk, "Sales", "Support")

    result = desk.run(
        "createuser", "alice", "--role", "agent", "--password", PASSWORD,
        "--department", "Sales", "--department", "support",
        "--display-name", "Alice Agent", "--capacity", "3",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Created agent 'alice' (Alice Agent) in Sales, Support.\n"
    assert _users(desk) == {
        "alice": {
            "role": "agent",
            "display_name": "Alice Agent",
            "capacity": 3,
            "departments": ["Sales", "Support"],
            "usable_password": True,
            "password_ok": True,
            "is_staff": False,
            "is_superuser": False,
        }
    }


def test_without_a_password_the_user_cannot_sign_in(desk: Desk) -> None:
    result = desk.run("createuser", "ada", "--role", "admin")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Created admin 'ada' (ada) with no password (cannot sign in yet).\n"
    ada = _users(desk)["ada"]
    assert ada["usable_password"] is False
    assert ada["is_staff"] is True
    assert ada["is_superuser"] is True
    assert ada["departments"] == []


def test_unknown_department_is_an_error_and_creates_nothing(desk: Desk) -> None:
    _departments(desk, "Sales")

    result = desk.run(
        "createuser", "bob", "--role", "agent", "--password", PASSWORD,
        "--department", "Sales", "--department", "Billing",
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stdout == ""
    assert "No department is named 'Billing' (known: Sales)." in result.stderr
    assert _users(desk) == {}


def test_duplicate_username_is_an_error_and_changes_nothing(desk: Desk) -> None:
    first = desk.run("createuser", "sam", "--role", "supervisor", "--password", PASSWORD)
    assert first.returncode == 0, first.stderr

    again = desk.run("createuser", "SAM", "--role", "agent", "--display-name", "Impostor")

    assert again.returncode == 1
    assert "A user named 'SAM' already exists." in again.stderr
    users = _users(desk)
    assert list(users) == ["sam"]
    assert users["sam"]["role"] == "supervisor"
    assert users["sam"]["password_ok"] is True


def test_a_weak_password_is_refused_unless_allowed(desk: Desk) -> None:
    weak = desk.run("createuser", "dave", "--role", "agent", "--password", "12345")

    assert weak.returncode == 1
    assert "The password is too weak" in weak.stderr
    assert _users(desk) == {}

    allowed = desk.run(
        "createuser", "dave", "--role", "agent", "--password", "12345", "--allow-weak-password"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert list(_users(desk)) == ["dave"]


def test_bad_role_and_capacity_are_refused(desk: Desk) -> None:
    role = desk.run("createuser", "eve", "--role", "boss")
    capacity = desk.run("createuser", "eve", "--role", "agent", "--capacity", "0")

    assert role.returncode == 2
    assert "invalid choice: 'boss'" in role.stderr
    assert capacity.returncode == 1
    assert "Capacity must be between 1 and 100" in capacity.stderr
    assert _users(desk) == {}
