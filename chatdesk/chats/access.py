"""Who may see and act on which chat: the one visibility rule, and the send rule.

The rule: supervisors and admins see every chat; an agent sees the chats they hold, the
unassigned tickets waiting in their departments, and those of the desk's own queue (a
ticket of a channel with no department: anyone may take it); a deactivated user sees
nothing. A chat's part of the rule is its ``ChatAudience`` (its agent, and the queue it
waits in as an unassigned ticket), and a user's part is their ``Viewer``; ``sees``
decides. The same rule in the forms its callers need, side by side:

- the chats a user may see: ``visible_chats`` (a query; ``chat_filter`` as a filter) and
  ``chat_for`` (the only way a request gets a chat);
- the users who may see a chat: ``may_see_chat`` (one) and ``users_who_may_see`` (all of
  them at once, a query);
- a live event's audience (``queue_department``, ``audience``, stored on the event when it
  is numbered) and who may receive it: ``can_see`` (live delivery, from memory) and
  ``visible_events`` (replay, a query of the log).

The tests compare every form with ``sees`` over a mixed set of users and chats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from chatdesk.accounts.models import Role, User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, TicketState
from chatdesk.core.errors import Conflict, DeskError, Forbidden, NotFound
from chatdesk.realtime.log import ViewerData, viewer_data
from chatdesk.realtime.models import INTERNAL_TYPES, LiveEvent

# --- The rule ----------------------------------------------------------------------------

# The queue of unassigned tickets with no department, which every agent serves. A live
# event names the queue it concerns by a department id; this one is 0, which no
# department has (ids start at 1), so the log, the hub's index and replay need nothing
# more than a viewer's queues including it.
DESK_QUEUE = 0


@dataclass(frozen=True)
class Viewer:
    """What the rule needs to know about a user, read once per connection and again
    whenever the user changes."""

    user_id: int
    oversees: bool
    department_ids: frozenset[int]
    is_active: bool = True

    @property
    def queue_ids(self) -> frozenset[int]:
        """The queues whose unassigned tickets the viewer sees: their departments' and the
        desk's."""
        return self.department_ids | {DESK_QUEUE}


@dataclass(frozen=True)
class ChatAudience:
    """Who besides supervisors and admins may see a chat."""

    agent_id: int | None
    # The queue, while an unassigned ticket waits there: its department, or DESK_QUEUE.
    queue_department_id: int | None


def viewer_for(user: User) -> Viewer:
    return viewer_from(viewer_data(user))


def viewer_from(data: ViewerData | Mapping[str, Any]) -> Viewer:
    """The viewer carried by a ``user.changed`` event (``log.viewer_data``)."""
    return Viewer(
        user_id=int(data["user_id"]),
        oversees=bool(data["oversees"]),
        department_ids=frozenset(int(pk) for pk in data["department_ids"]),
        is_active=bool(data["is_active"]),
    )


def audience(
    *, agent_id: int | None, kind: str, ticket_state: str | None, department_id: int | None
) -> ChatAudience:
    # An unassigned ticket is always open (a CHECK constraint on the chats table).
    waiting = kind == ChatKind.TICKET and ticket_state == TicketState.UNASSIGNED
    if not waiting:
        return ChatAudience(agent_id=agent_id, queue_department_id=None)
    queue = DESK_QUEUE if department_id is None else department_id
    return ChatAudience(agent_id=agent_id, queue_department_id=queue)


def audience_of(chat: Chat) -> ChatAudience:
    return audience(
        agent_id=chat.agent_id,
        kind=chat.kind,
        ticket_state=chat.ticket_state,
        department_id=chat.department_id,
    )


def queue_department(chat: Chat) -> int | None:
    """The queue (a department, or ``DESK_QUEUE``) whose agents see this chat as an
    unassigned ticket, if any."""
    return audience_of(chat).queue_department_id


def sees(viewer: Viewer, chat: ChatAudience) -> bool:
    """The rule itself; every other form below says the same thing."""
    return _sees(viewer, chat.agent_id, chat.queue_department_id)


def _sees(viewer: Viewer, agent_id: int | None, queue_department_id: int | None) -> bool:
    # ``sees`` on the audience's two fields: the live stream asks it for every connection
    # an event may concern, so it builds no ``ChatAudience`` on the way.
    if not viewer.is_active:
        return False
    return (
        viewer.oversees
        or agent_id == viewer.user_id
        # The desk's queue is every viewer's; asked first, so no set is built per call.
        or queue_department_id == DESK_QUEUE
        or queue_department_id in viewer.department_ids
    )


# --- Chats a user may see ----------------------------------------------------------------


def chat_filter(user: User) -> Q:
    """``sees`` as a filter, for any model with a chat's ``agent``, ``kind``,
    ``ticket_state`` and ``department`` (chats, and the tabs' counts of chats)."""
    if not user.is_active:
        return Q(pk__in=[])
    if user.oversees:
        return Q()
    return Q(agent=user) | (
        Q(kind=ChatKind.TICKET, ticket_state=TicketState.UNASSIGNED)
        & (Q(department__in=user.departments.all()) | Q(department__isnull=True))
    )


def visible_chats(user: User) -> QuerySet[Chat]:
    """The chats ``user`` may see (``sees``, as a query)."""
    return Chat.objects.filter(chat_filter(user))


def chat_for(user: User, chat_id: int, *, for_update: bool = False) -> Chat:
    """The chat, if this user may see it; otherwise "not found" (never "forbidden", which
    would confirm it exists)."""
    chats = visible_chats(user)
    if for_update:
        chats = chats.select_for_update()
    chat = chats.filter(pk=chat_id).first()
    if chat is None:
        raise NotFound("No chat with that id.")
    return chat


# --- Users who may see a chat ------------------------------------------------------------


def may_see_chat(user: User, chat: Chat) -> bool:
    return sees(viewer_for(user), audience_of(chat))


def users_who_may_see(chat: Chat) -> QuerySet[User]:
    """Everyone who may see ``chat`` (``sees``, for many users at once, as a query)."""
    chat_audience = audience_of(chat)
    may_see = Q(role__in=[Role.SUPERVISOR, Role.ADMIN]) | Q(is_superuser=True)
    if chat_audience.agent_id is not None:
        may_see |= Q(pk=chat_audience.agent_id)
    if chat_audience.queue_department_id == DESK_QUEUE:
        may_see |= Q(role=Role.AGENT)
    elif chat_audience.queue_department_id is not None:
        may_see |= Q(departments=chat_audience.queue_department_id)
    return User.objects.filter(may_see, is_active=True).distinct()


# --- A live event's audience -------------------------------------------------------------


def can_see(viewer: Viewer, event: Mapping[str, Any]) -> bool:
    """Whether ``viewer`` receives ``event`` (``log.as_dict``): an event for one user
    (``user_id``) goes to that user alone, one for ``everyone`` to every active user, and
    a chat's event to who may see the chat as it is (``agent_id``, ``department_id``) or
    was just before (``previous_*``), so the screens it left can drop it."""
    if not viewer.is_active or event.get("type") in INTERNAL_TYPES:
        return False
    if event.get("user_id") is not None:
        return bool(event["user_id"] == viewer.user_id)
    if event.get("everyone"):
        return True
    get = event.get
    return _sees(viewer, get("agent_id"), get("department_id")) or _sees(
        viewer, get("previous_agent_id"), get("previous_department_id")
    )


def visible_events(viewer: Viewer) -> QuerySet[LiveEvent]:
    """The events ``viewer`` receives (``can_see``, as a query of the log)."""
    if not viewer.is_active:
        return LiveEvent.objects.none()
    private = Q(user_id=viewer.user_id)
    shared = Q(everyone=True)
    if viewer.oversees:
        shared = Q(pk__isnull=False)
    else:
        shared |= Q(agent_id=viewer.user_id) | Q(previous_agent_id=viewer.user_id)
        queues = sorted(viewer.queue_ids)
        shared |= Q(department_id__in=queues) | Q(previous_department_id__in=queues)
    return LiveEvent.objects.exclude(type__in=INTERNAL_TYPES).filter(
        private | (Q(user_id__isnull=True) & shared)
    )


# --- Who may send into a chat ------------------------------------------------------------


def send_refusal(user: User, chat: Chat) -> DeskError | None:
    """Why ``user`` may not send into ``chat`` now, as the error to raise (403: someone
    else's; 409: the ticket must be accepted first), or None when they may."""
    live = chat.kind == ChatKind.CHAT and chat.status == ChatStatus.OPEN
    if live and chat.agent_id != user.pk:
        return Forbidden(
            "Only the agent who holds a live chat can send into it; supervisors can add a "
            "comment instead."
        )
    ticket = chat.kind == ChatKind.TICKET
    if ticket and chat.ticket_state == TicketState.UNASSIGNED and not user.oversees:
        return Conflict("Accept the ticket before replying to it.")
    if (
        ticket
        and chat.ticket_state == TicketState.ASSIGNED
        and chat.agent_id != user.pk
        and not user.oversees
    ):
        return Forbidden("This ticket is assigned to another agent.")
    return None


def may_send(user: User, chat: Chat) -> str | None:
    """None when ``user`` may send into ``chat``, else the sentence saying why not."""
    refusal = send_refusal(user, chat)
    return None if refusal is None else refusal.detail


def check_may_send(user: User, chat: Chat) -> None:
    """Raise ``send_refusal``'s error, if any."""
    refusal = send_refusal(user, chat)
    if refusal is not None:
        raise refusal
