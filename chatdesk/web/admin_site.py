"""The set-up pages ("user portal") at /setup/: Django's admin, open to admins only.

Signing in and out happens on the desk's own /login/ and /logout/ pages; a signed-in
supervisor or agent who opens /setup/ gets a 403 page, not the admin's login form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from chatdesk.web.views import LogoutView, forbidden

View = TypeVar("View", bound=Callable[..., Any])

NOT_AN_ADMIN = "Only admins can open the set-up pages."


class SetupSite(AdminSite):
    site_header = "Chat Desk set-up"
    site_title = "Chat Desk set-up"
    index_title = "Set up the desk"
    # "View site" from set-up: the console, since "/" would send an admin back here.
    site_url = "/supervisor/"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "is_admin", False))

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not self.has_permission(request):
                return forbidden(request, NOT_AN_ADMIN)
            return inner(request, *args, **kwargs)

        return cast(View, update_wrapper(never_cache(guarded), inner))

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The admin's own login form is never shown: /login/ is the one way in."""
        if self.has_permission(request):
            return HttpResponseRedirect(reverse("setup:index", current_app=self.name))
        if request.user.is_authenticated:
            return forbidden(request, NOT_AN_ADMIN)
        target = request.GET.get("next") or reverse("setup:index", current_app=self.name)
        return redirect_to_login(target, settings.LOGIN_URL)

    # The stubs promise a TemplateResponse; Django itself returns whatever the view does.
    def logout(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponseBase:
        return LogoutView.as_view()(request)


setup_site = SetupSite(name="setup")
