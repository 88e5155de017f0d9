"""Creating and changing users (accounts.services), then, when an agent got room for more
chats or new departments, handing them waiting chats once committed."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import Role, User
from chatdesk.accounts.services import UserChanges
from chatdesk.flows import queues


def create_user(
    *,
    username: str,
    password: str | None,
    role: str = Role.AGENT,
    display_name: str = "",
    capacity: int | None = None,
    department_ids: Iterable[int] = (),
    check_password_strength: bool = True,
    time_zone: str = "",
    by: User | None = None,
) -> User:
    """Create a user (see accounts.services.create_user). A new user has no connection
    yet, so nothing waits for them."""
    return account_services.create_user(
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        capacity=capacity,
        department_ids=department_ids,
        check_password_strength=check_password_strength,
        time_zone=time_zone,
        by=by,
    )


def update_user(*, user: User, changes: UserChanges, by: User | None = None) -> User:
    """Apply a partial change (see accounts.services.change_user); an agent with more
    room or new departments is offered waiting chats after commit."""
    update = account_services.change_user(user=user, changes=changes, by=by)
    if update.may_take_more:
        changed = update.user
        transaction.on_commit(lambda: queues.agent_became_available(user=changed))
    return update.user
