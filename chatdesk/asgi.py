"""The ASGI application: HTTP (pages, API, webhooks) and WebSocket (live events)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi = get_asgi_application()

from chatdesk.realtime.auth import (  # noqa: E402
    BrowserOriginValidator,
    TokenOrSessionAuthMiddleware,
)
from chatdesk.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi,
        "websocket": BrowserOriginValidator(
            TokenOrSessionAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)
