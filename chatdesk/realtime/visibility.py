"""Who receives which live event. One rule, two forms that must agree: ``can_see`` for
live delivery from memory and ``visible_events`` for replay from the log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from chatdesk.accounts.models import User
from chatdesk.realtime.models import INTERNAL_TYPES, LiveEvent


@dataclass(frozen=True)
class Viewer:
    """What the rule needs to know about a connected user, read once per connection and
    again whenever the user changes."""

    user_id: int
    oversees: bool
    department_ids: frozenset[int]
    is_active: bool = True


def viewer_for(user: User) -> Viewer:
    return Viewer(
        user_id=user.pk,
        oversees=user.oversees,
        department_ids=frozenset(user.departments.values_list("pk", flat=True)),
        is_active=user.is_active,
    )


def viewer_from(data: dict[str, Any]) -> Viewer:
    """The viewer carried by a ``user.changed`` event (see ``viewer_data``)."""
    return Viewer(
        user_id=int(data["user_id"]),
        oversees=bool(data["oversees"]),
        department_ids=frozenset(int(pk) for pk in data["department_ids"]),
        is_active=bool(data["is_active"]),
    )


def viewer_data(viewer: Viewer) -> dict[str, Any]:
    return {
        "user_id": viewer.user_id,
        "oversees": viewer.oversees,
        "department_ids": sorted(viewer.department_ids),
        "is_active": viewer.is_active,
    }


def can_see(viewer: Viewer, event: dict[str, Any]) -> bool:
    """``event`` is the log row as a dict (see ``events.as_dict``)."""
    if not viewer.is_active or event.get("type") in INTERNAL_TYPES:
        return False
    if event.get("user_id") is not None:
        return event["user_id"] == viewer.user_id
    if event.get("everyone") or viewer.oversees:
        return True
    if viewer.user_id in (event.get("agent_id"), event.get("previous_agent_id")):
        return True
    return (
        event.get("department_id") in viewer.department_ids
        or event.get("previous_department_id") in viewer.department_ids
    )


def visible_events(viewer: Viewer) -> QuerySet[LiveEvent]:
    private = Q(user_id=viewer.user_id)
    shared = Q(everyone=True)
    if viewer.oversees:
        shared = Q(pk__isnull=False)
    else:
        shared |= Q(agent_id=viewer.user_id) | Q(previous_agent_id=viewer.user_id)
        if viewer.department_ids:
            departments = sorted(viewer.department_ids)
            shared |= Q(department_id__in=departments) | Q(previous_department_id__in=departments)
    if not viewer.is_active:
        return LiveEvent.objects.none()
    return LiveEvent.objects.exclude(type__in=INTERNAL_TYPES).filter(
        private | (Q(user_id__isnull=True) & shared)
    )
