"""/notifications: what the desk told each user (mentions, assignments, transfers, a chat
of theirs given to someone else), and marking it read. Everyone sees only their own."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import errors
from chatdesk.chats import queries
from chatdesk.chats.models import Notification
from chatdesk.chats.services import notifications as services

router = Router(tags=["notifications"])


class NotificationFilters(Schema):
    unread: bool = Field(False, description="Only the notifications not read yet.")


class NotificationOut(Schema):
    id: int
    kind: Literal[
        "mention", "assigned", "transferred", "reassigned", "disconnected", "unanswered"
    ] = Field(
        description=(
            "mention, assigned, transferred; reassigned: someone else gave a chat you held "
            "to another agent (you no longer see it); disconnected and unanswered: one of the "
            "recipient's chats was handed on because their connection was gone past the "
            "grace period, or its first message went unanswered."
        )
    )
    chat_id: int
    comment_id: int | None = Field(description="The comment of a mention; null otherwise.")
    actor_id: int | None = Field(
        description="Who assigned or transferred the chat; null for a mention."
    )
    note: str = Field(description="The note written with an assignment or transfer.")
    read_at: datetime | None
    created_at: datetime


class CountOut(Schema):
    count: int


@router.get(
    "",
    response={200: list[NotificationOut], **errors(400, 401)},
    description=f"The latest {queries.NOTIFICATION_LIMIT} notifications, newest first.",
)
def list_notifications(
    request: HttpRequest, filters: Query[NotificationFilters]
) -> list[Notification]:
    return queries.notifications_of(acting_user(request), unread=filters.unread)


@router.get("/unread-count", response={200: CountOut, **errors(401)})
def unread_count(request: HttpRequest) -> CountOut:
    return CountOut(count=queries.unread_notification_count(acting_user(request)))


@router.post("/read-all", response={200: CountOut, **errors(401)})
def read_all(request: HttpRequest) -> CountOut:
    """Marks every unread notification read; ``count`` is how many were unread."""
    return CountOut(count=services.mark_all_read(by=acting_user(request)))


@router.post("/{notification_id}/read", response={200: NotificationOut, **errors(400, 401, 404)})
def read_one(request: HttpRequest, notification_id: int) -> Notification:
    """Marks one notification read; reading it again keeps the first time."""
    return services.mark_read(notification_id=notification_id, by=acting_user(request))
