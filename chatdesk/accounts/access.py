"""Who may do what with users and desk set-up. The one place these rules live."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.accounts.queries import users_for_listing
from chatdesk.core.errors import Forbidden, NotFound


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only an admin can change the desk's set-up.")


def require_overseer(user: User) -> None:
    if not user.oversees:
        raise Forbidden("Only supervisors and admins can do this.")


def user_for(viewer: User, user_id: int) -> User:
    """A user of the desk by id. Every signed-in user may see the others (to assign,
    mention and transfer), so the only refusal is "not found"."""
    user = users_for_listing().filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"No user has the id {user_id}.")
    return user
