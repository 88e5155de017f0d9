"""/chats/{id}/comments: internal notes on a chat, with @username mentions that notify."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import errors
from chatdesk.chats import access, queries
from chatdesk.chats.models import Comment
from chatdesk.chats.services.comments import MAX_BODY, add_comment

router = Router(tags=["comments"])


class CommentIn(Schema):
    body: str = Field(
        description=f"Up to {MAX_BODY} characters. `@username` mentions an active user who "
        "may see the chat and notifies them; other names stay plain text."
    )


class CommentOut(Schema):
    id: int
    author_id: int
    body: str
    mentions: list[int] = Field(description="The ids of the users the comment notified.")
    created_at: datetime

    @staticmethod
    def resolve_mentions(obj: Comment) -> list[int]:
        return sorted(user.pk for user in obj.mentions.all())


@router.get("/chats/{chat_id}/comments", response={200: list[CommentOut], **errors(400, 401, 404)})
def list_comments(request: HttpRequest, chat_id: int) -> list[Comment]:
    chat = access.chat_for(acting_user(request), chat_id)
    return list(queries.chat_comments(chat))


@router.post("/chats/{chat_id}/comments", response={201: CommentOut, **errors(400, 401, 404)})
def post_comment(request: HttpRequest, chat_id: int, payload: CommentIn) -> Status[Comment]:
    comment = add_comment(chat_id=chat_id, body=payload.body, by=acting_user(request))
    return Status(201, comment)
