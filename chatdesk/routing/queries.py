"""Reads about departments, business hours, and the agents who can take a chat now.

"Who can take a chat now" is written here once: active agents who chose ``available``,
have a live connection, belong to the chat's department (any agent for a chat with none)
and have room under their capacity (open live chats; tickets do not count). The service
that places chats, transfers, the API and the assign dialog all read it from here.
"""

from __future__ import annotations

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan

from chatdesk.accounts.models import Presence, Role, User
from chatdesk.accounts.queries import only_online
from chatdesk.chats.models import Chat, ChatKind, ChatStatus
from chatdesk.routing.models import BusinessHours, Department
from chatdesk.routing.zones import zone_or_none


def departments() -> QuerySet[Department]:
    return Department.objects.order_by("name")


def business_hours_for(department: Department | None) -> BusinessHours | None:
    """The schedule that applies: the department's own, else the desk's, else none
    (no schedule means always open)."""
    qs = BusinessHours.objects.prefetch_related("weekly", "exceptions")
    if department is not None:
        own = qs.filter(department=department).first()
        if own is not None:
            return own
    return qs.filter(department__isnull=True).first()


def own_business_hours(department: Department | None) -> BusinessHours | None:
    """The schedule stored for exactly this scope (the desk's when ``department`` is None),
    without falling back."""
    return (
        BusinessHours.objects.prefetch_related("weekly", "exceptions")
        .filter(department=department)
        .first()
    )


def business_hours_name(hours: BusinessHours) -> str:
    """'Business hours of the desk', 'Business hours of Sales'."""
    return f"Business hours of {hours.department.name if hours.department else 'the desk'}"


def business_hours_faults() -> list[tuple[BusinessHours, str]]:
    """The stored schedules the desk cannot follow (a time zone this server does not
    know), each with a sentence: what is wrong, what the desk does meanwhile (see
    ``hours``: always open), and how to correct it."""
    faults: list[tuple[BusinessHours, str]] = []
    for hours in BusinessHours.objects.select_related("department").order_by("pk"):
        if zone_or_none(hours.timezone) is None:
            faults.append(
                (
                    hours,
                    f"{business_hours_name(hours)}: the time zone {hours.timezone!r} is not one "
                    "this server knows, so these hours are ignored and new chats are routed "
                    "as if always open. Save them with a time zone such as "
                    "'Africa/Johannesburg'.",
                )
            )
    return faults


def agents_online(department_id: int | None) -> QuerySet[User]:
    """Active agents who chose ``available`` and have a live connection, in the department
    (or anywhere, for a chat with no department)."""
    agents = only_online(
        User.objects.filter(role=Role.AGENT, is_active=True, presence=Presence.AVAILABLE)
    )
    if department_id is not None:
        agents = agents.filter(departments=department_id)
    return agents


def _open_chat_count() -> Subquery:
    return Subquery(
        Chat.objects.filter(agent=OuterRef("pk"), kind=ChatKind.CHAT, status=ChatStatus.OPEN)
        .order_by()
        .values("agent")
        .annotate(n=Count("pk"))
        .values("n")
    )


def _has_room() -> LessThan:
    """Room under the capacity: the one place the rule is written."""
    return LessThan(F("open_chats"), F("capacity"))


def _with_open_chats(department_id: int | None) -> QuerySet[User]:
    return (
        agents_online(department_id)
        .annotate(open_chats=Coalesce(_open_chat_count(), Value(0)))
        .order_by("open_chats", F("last_assigned_at").asc(nulls_first=True), "pk")
    )


def agents_with_load(department_id: int | None) -> QuerySet[User]:
    """``agents_online``, each with ``open_chats`` (their open live chats) and ``has_room``
    (below their capacity, so they can take a chat now), best first: least loaded, then
    longest since an assignment. For a list that shows the full ones too."""
    return _with_open_chats(department_id).annotate(has_room=_has_room())


def agents_who_can_take_a_chat(department_id: int | None) -> QuerySet[User]:
    """The agents who can take a chat now, best first, each with ``open_chats``."""
    return _with_open_chats(department_id).filter(_has_room())


def previous_agent_id(chat: Chat) -> int | None:
    """The agent of the contact's latest earlier chat on the channel, if any."""
    return (
        Chat.objects.filter(contact_id=chat.contact_id, channel_id=chat.channel_id)
        .exclude(pk=chat.pk)
        .filter(agent__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("agent_id", flat=True)
        .first()
    )


def departments_of(user: User) -> list[int | None]:
    """The queues an agent serves: their departments, and the chats with none."""
    ids: list[int | None] = list(user.departments.values_list("pk", flat=True))
    return [*ids, None]
