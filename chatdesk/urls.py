"""Top-level URLs: pages, set-up, REST API, webhooks, health."""

from django.urls import include, path
from django.views.generic import RedirectView

from chatdesk.api.api import api
from chatdesk.core import views as core_views
from chatdesk.web.admin_site import setup_site

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("setup/", setup_site.urls),
    path("webhooks/", include("chatdesk.webhooks.urls")),
    path("", include("chatdesk.web.urls")),
]
