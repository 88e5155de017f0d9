"""The set-up pages ("user portal") at /setup/: Django's admin, open to admins only."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest


class SetupSite(AdminSite):
    site_header = "Chat Desk set-up"
    site_title = "Chat Desk set-up"
    index_title = "Set up the desk"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_admin", False))


setup_site = SetupSite(name="setup")
