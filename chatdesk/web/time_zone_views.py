"""A user's own time zone: the zone their pages show times in (blank: the desk's)."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from chatdesk.accounts import services as account_services
from chatdesk.accounts.models import User
from chatdesk.core import clock
from chatdesk.core.errors import BadInput
from chatdesk.routing.desk_zone import desk_time_zone
from chatdesk.web.views import role_required

SIGNED_IN = "Sign in to choose your time zone."


@cache
def zone_names() -> list[str]:
    """Every zone this server knows, by name ("localtime" and the like left out)."""
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@require_http_methods(["GET", "POST"])
@role_required(lambda user: True, SIGNED_IN)
def time_zone_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    alert = ""
    chosen = user.time_zone
    status = 200
    if request.method == "POST":
        chosen = request.POST.get("time_zone", "")
        try:
            account_services.set_time_zone(user=user, time_zone=chosen)
        except BadInput as exc:
            alert, status = str(exc), 400
        else:
            back = _back(request)
            return HttpResponseRedirect(back or reverse("time-zone"))
    context = {
        "alert": alert,
        "chosen": chosen,
        "zones": zone_names(),
        "desk_zone": str(desk_time_zone()),
        "current_zone": str(timezone.get_current_timezone()),
        "next": _back(request),
        "now": clock.now(),
    }
    return render(request, "web/time_zone.html", context, status=status)
