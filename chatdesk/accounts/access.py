"""Who may do what with users and desk set-up. The one place these rules live."""

from __future__ import annotations

from chatdesk.accounts.models import User
from chatdesk.core.errors import Forbidden


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only an admin can change the desk's set-up.")


def require_overseer(user: User) -> None:
    if not user.oversees:
        raise Forbidden("Only supervisors and admins can do this.")
