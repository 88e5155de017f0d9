"""Who may change departments and business hours: admins (the set-up)."""

from __future__ import annotations

from chatdesk.accounts.access import require_admin
from chatdesk.accounts.models import User
from chatdesk.core.errors import NotFound
from chatdesk.routing.models import Department

__all__ = ["department_for", "require_admin"]


def department_for(viewer: User, department_id: int) -> Department:
    """A department by id; every signed-in user may see them all."""
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise NotFound(f"No department has the id {department_id}.")
    return department
