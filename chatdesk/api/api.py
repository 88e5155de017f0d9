"""The NinjaAPI instance mounted at /api/v1/ (OpenAPI at /api/v1/docs, and /api/docs)."""

from __future__ import annotations

from ninja import NinjaAPI

from chatdesk import __version__
from chatdesk.api import errors
from chatdesk.api.auth import bearer, session
from chatdesk.api.routers import (
    agents,
    business_hours,
    channels,
    chats,
    comments,
    departments,
    notifications,
    templates,
    users,
)

api = NinjaAPI(
    title="Chat Desk API",
    version=__version__,
    description=(
        "Set-up, chats, tickets, messages and comments of Chat Desk. Authenticate with "
        "`Authorization: Bearer <token>` (`chatdesk token USERNAME`) or the browser session. "
        'Errors are `{"detail": "<sentence>"}`.'
    ),
    auth=[bearer, session],
    urls_namespace="api",
    docs_url="/docs",
)
errors.install(api)

api.add_router("/departments", departments.router)
api.add_router("/", users.router)
api.add_router("/channels", channels.router)
api.add_router("/business-hours", business_hours.router)
api.add_router("/templates", templates.router)
api.add_router("/chats", chats.router)
api.add_router("/", comments.router)
api.add_router("/notifications", notifications.router)
api.add_router("/agents", agents.router)
