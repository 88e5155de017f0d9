"""/agents/available: who can take a chat right now (for the assign dialog)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from chatdesk.accounts.models import User
from chatdesk.api.schemas import IdFilter, errors
from chatdesk.routing.queries import agents_who_can_take_a_chat

router = Router(tags=["agents"])


class AvailableAgentOut(Schema):
    id: int
    username: str
    display_name: str
    department_ids: list[int]
    open_chats: int
    capacity: int

    @staticmethod
    def resolve_department_ids(obj: User) -> list[int]:
        return sorted(d.pk for d in obj.departments.all())

    @staticmethod
    def resolve_display_name(obj: User) -> str:
        return obj.name


@router.get("/available", response={200: list[AvailableAgentOut], **errors(400, 401)})
def available(request: HttpRequest, department_id: IdFilter | None = None) -> list[User]:
    """Agents online, ``available``, with free capacity; least loaded first."""
    return list(agents_who_can_take_a_chat(department_id).prefetch_related("departments"))
