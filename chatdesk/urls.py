"""Top-level URLs: pages, set-up, REST API, health. Webhooks join with the providers."""

from django.urls import include, path

from chatdesk.api.api import api
from chatdesk.core import views as core_views
from chatdesk.web.admin_site import setup_site

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("setup/", setup_site.urls),
    path("", include("chatdesk.web.urls")),
]
