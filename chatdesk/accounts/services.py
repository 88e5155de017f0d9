"""Changes to users: creating and editing them, presence, API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from chatdesk.accounts.models import MAX_CAPACITY, MIN_CAPACITY, ApiToken, Presence, Role, User
from chatdesk.accounts.queries import hash_token
from chatdesk.core import clock
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.routing.models import Department

TOKEN_PREFIX = "cd_"


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise BadInput(f"Role must be one of {', '.join(Role.values)}; got {role!r}.")


def _check_capacity(capacity: int) -> None:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise BadInput(f"Capacity must be between {MIN_CAPACITY} and {MAX_CAPACITY} open chats.")


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise BadInput("The password is too weak: " + " ".join(exc.messages)) from exc


def _departments(ids: Iterable[int]) -> list[Department]:
    wanted = set(ids)
    found = list(Department.objects.filter(pk__in=wanted))
    missing = wanted - {d.pk for d in found}
    if missing:
        raise BadInput(
            "No department has the id " + ", ".join(str(i) for i in sorted(missing)) + "."
        )
    return found


def _check_username(username: str) -> str:
    username = username.strip()
    field = User._meta.get_field("username")
    try:
        field.run_validators(username)
    except ValidationError as exc:
        raise BadInput("The username is not valid: " + " ".join(exc.messages)) from exc
    if not username:
        raise BadInput("A username is required.")
    return username


def create_user(
    *,
    username: str,
    password: str | None,
    role: str = Role.AGENT,
    display_name: str = "",
    capacity: int | None = None,
    department_ids: Iterable[int] = (),
    check_password_strength: bool = True,
) -> User:
    """Create a user. Admins get Django's staff flags so the set-up pages open for them."""
    username = _check_username(username)
    _check_role(role)
    if capacity is not None:
        _check_capacity(capacity)
    user = User(username=username, role=role, display_name=display_name.strip())
    if capacity is not None:
        user.capacity = capacity
    _apply_role_flags(user)
    if password:
        if check_password_strength:
            _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        departments = _departments(department_ids)
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(f"A user named {username!r} already exists.")
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:
            raise Conflict(f"A user named {username!r} already exists.") from exc
        user.departments.set(departments)
    return user


@dataclass(frozen=True)
class UserChanges:
    """What a PATCH may change; None means 'leave as is'."""

    password: str | None = None
    role: str | None = None
    display_name: str | None = None
    capacity: int | None = None
    department_ids: list[int] | None = None
    is_active: bool | None = None


def update_user(*, user: User, changes: UserChanges) -> User:
    if changes.role is not None:
        _check_role(changes.role)
    if changes.capacity is not None:
        _check_capacity(changes.capacity)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        departments = (
            _departments(changes.department_ids) if changes.department_ids is not None else None
        )
        if changes.role is not None:
            locked.role = changes.role
            _apply_role_flags(locked)
        if changes.display_name is not None:
            locked.display_name = changes.display_name.strip()
        if changes.capacity is not None:
            locked.capacity = changes.capacity
        if changes.is_active is not None:
            locked.is_active = changes.is_active
        if changes.password is not None:
            _check_password(changes.password, locked)
            locked.set_password(changes.password)
        locked.save()
        if departments is not None:
            locked.departments.set(departments)
    return locked


def _apply_role_flags(user: User) -> None:
    user.is_staff = user.role == Role.ADMIN
    user.is_superuser = user.role == Role.ADMIN


def set_presence(*, user: User, status: str) -> User:
    if status not in Presence.values:
        raise BadInput(f"Status must be one of {', '.join(Presence.values)}; got {status!r}.")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.presence != status:
            locked.presence = status
            locked.presence_changed_at = clock.now()
            locked.save(update_fields=["presence", "presence_changed_at"])
    return locked


def issue_api_token(*, user: User, name: str = "") -> str:
    """Create a token and return it in clear; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token[:10],
        key_hash=hash_token(token),
        created_at=clock.now(),
    )
    return token
