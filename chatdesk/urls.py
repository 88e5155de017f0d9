"""Top-level URLs: pages, set-up, REST API, webhooks, health."""

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from chatdesk.api.api import api
from chatdesk.ops import health
from chatdesk.web.admin_site import setup_site

# Refused before a view runs (too large, too many fields): a sentence, as JSON for machines.
handler400 = "chatdesk.ops.bad_requests.bad_request"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Browsers ask for /favicon.ico whatever the page links: the desk's SVG icon.
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("setup/", setup_site.urls),
    path("webhooks/", include("chatdesk.webhooks.urls")),
    path("", include("chatdesk.web.urls")),
]
