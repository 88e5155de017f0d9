"""Who may change departments and business hours: admins (the set-up)."""

from chatdesk.accounts.access import require_admin

__all__ = ["require_admin"]
