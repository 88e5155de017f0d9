"""The chat timeline: one permanent ChatEvent row for every change, with its actor."""

from __future__ import annotations

from typing import Any

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatEvent
from chatdesk.core import clock


def record(chat: Chat, kind: str, *, actor: User | None = None, **data: Any) -> ChatEvent:
    return ChatEvent.objects.create(
        chat=chat, kind=kind, actor=actor, data=data, created_at=clock.now()
    )
