"""/chats: the desk's chats and tickets, their messages and their timeline, as each user
may see them (a chat the user may not see is "not found")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from chatdesk.accounts.models import Role
from chatdesk.api.routers import acting_user
from chatdesk.api.schemas import IdFilter, errors
from chatdesk.chats import access, queries
from chatdesk.chats.models import ChatEvent, Message
from chatdesk.chats.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ChatView, Tab, TabSummary
from chatdesk.chats.services.notifications import mark_chat_read
from chatdesk.chats.services.outbound import Reply
from chatdesk.flows import bulk, lifecycle, transfers
from chatdesk.flows.outbound import retry_message, send_message

router = Router(tags=["chats"])

TicketStateName = Literal["unassigned", "assigned", "closed"]

CURSOR_HELP = "The next_cursor of the previous page; omit it for the first page."
LIMIT_HELP = f"Page size, 1 to {MAX_PAGE_SIZE}."


# --- Input -------------------------------------------------------------------------------


class PageQuery(Schema):
    cursor: str | None = Field(None, description=CURSOR_HELP)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=LIMIT_HELP)


class ChatFilters(Schema):
    tab: Tab = Field(
        "chats",
        description="chats: open live chats, newest first; closed: ended live chats, most "
        "recently closed first; tickets: every ticket, newest first.",
    )
    agent_id: IdFilter | None = None
    department_id: IdFilter | None = None
    ticket_state: TicketStateName | None = Field(None, description="Only with tab=tickets.")
    cursor: str | None = Field(None, description=CURSOR_HELP)
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=LIMIT_HELP)


class SummaryQuery(Schema):
    tab: Tab = "chats"


# --- Output ------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    phone: str | None = Field(
        description="E.164; null when the provider withholds it (a WhatsApp user known "
        "only by their business-scoped user id)"
    )
    name: str
    provider_user_id: str | None = Field(
        description="The provider's id for the contact: WhatsApp's business-scoped user "
        "id (BSUID); null when none"
    )
    username: str = Field(description="The contact's WhatsApp username, or empty")
    email: str = Field(description="The contact's e-mail address, or empty")


class ChatOut(Schema):
    id: int
    kind: Literal["chat", "ticket"]
    status: Literal["open", "closed"]
    ticket_state: TicketStateName | None = Field(description="Null for a live chat.")
    channel_id: int
    channel_kind: Literal["whatsapp", "sms", "sandbox"]
    contact: ContactOut
    agent_id: int | None
    department_id: int | None
    created_at: datetime
    queued_at: datetime | None = Field(description="Set while the chat waits for an agent.")
    assigned_at: datetime | None
    first_response_at: datetime | None
    last_inbound_at: datetime | None
    last_message_at: datetime | None
    closed_at: datetime | None
    closed_by: Literal["agent", "supervisor", "contact", "system"] | None
    closed_by_user_id: int | None
    window_open: bool = Field(
        description="Free text may be sent: always on SMS and sandbox; on WhatsApp, for 24 "
        "hours after the contact's last message."
    )
    window_expires_at: datetime | None = Field(
        description="When the WhatsApp window closes; null when no window applies or the "
        "contact never wrote."
    )
    continues_chat_id: int | None = Field(
        description="The earlier chat this one continues: the contact started it by "
        "answering a re-engagement of that chat. Null otherwise."
    )


class ChatPageOut(Schema):
    items: list[ChatOut]
    next_cursor: str | None


class AgentCountOut(Schema):
    agent_id: int
    display_name: str
    count: int


class SummaryOut(Schema):
    tab: Tab
    total: int
    agents: list[AgentCountOut]
    unassigned: int = Field(description="Chats of the tab with no agent.")


class MessageTemplateOut(Schema):
    id: int
    name: str
    language: str
    variables: list[str]


class MessageOut(Schema):
    id: int
    direction: Literal["in", "out"]
    content_type: str
    text: str
    template: MessageTemplateOut | None
    media: dict[str, Any]
    author_id: int | None = Field(description="The user who sent it; null for the contact.")
    is_automatic: bool = Field(description="An auto-reply of the desk.")
    status: Literal["queued", "sent", "delivered", "read", "failed"] | None = Field(
        description="Delivery status of an outbound message; null for inbound ones."
    )
    error_code: str
    error_reason: str
    provider_message_id: str | None
    created_at: datetime

    @staticmethod
    def resolve_text(obj: Message, context: Any) -> str:
        """A message the customer deleted keeps its text for supervisors and admins only."""
        request = (context or {}).get("request")
        user = getattr(request, "user", None)
        if obj.media.get("revoked_at") and getattr(user, "role", "agent") == Role.AGENT:
            return ""
        return obj.text

    @staticmethod
    def resolve_template(obj: Message) -> dict[str, Any] | None:
        if obj.template is None:
            return None
        return {
            "id": obj.template.pk,
            "name": obj.template.name,
            "language": obj.template.language,
            "variables": [str(value) for value in obj.template_variables],
        }


class MessagePageOut(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    kind: str
    actor_id: int | None = Field(description="Null when the contact or the system did it.")
    data: dict[str, Any]
    created_at: datetime


def chat_out(view: ChatView) -> ChatOut:
    """The API's chat: the row, its contact and its contact window."""
    return ChatOut.model_validate(chat_fields(view))


def chat_fields(view: ChatView) -> dict[str, Any]:
    """``ChatOut``'s fields as plain values. A list answers these and lets its response
    schema check them once: building each ``ChatOut`` first would have every item checked
    twice, which was most of the time a page took."""
    chat, window = view.chat, view.window
    return {
        "id": chat.pk,
        "kind": chat.kind,
        "status": chat.status,
        "ticket_state": chat.ticket_state,
        "channel_id": chat.channel_id,
        "channel_kind": chat.channel.kind,
        "contact": {
            "id": chat.contact.pk,
            "phone": chat.contact.phone,
            "name": chat.contact.name,
            "provider_user_id": chat.contact.provider_user_id,
            "username": chat.contact.username,
            "email": chat.contact.email,
        },
        "agent_id": chat.agent_id,
        "department_id": chat.department_id,
        "created_at": chat.created_at,
        "queued_at": chat.queued_at,
        "assigned_at": chat.assigned_at,
        "first_response_at": chat.first_response_at,
        "last_inbound_at": chat.last_inbound_at,
        "last_message_at": chat.last_message_at,
        "closed_at": chat.closed_at,
        "closed_by": chat.closed_by,
        "closed_by_user_id": chat.closed_by_user_id,
        "window_open": window.is_open,
        "window_expires_at": window.expires_at,
        "continues_chat_id": chat.continues_id,
    }


# --- Endpoints ---------------------------------------------------------------------------


@router.get("", response={200: ChatPageOut, **errors(400, 401)})
def list_chats(request: HttpRequest, filters: Query[ChatFilters]) -> dict[str, Any]:
    page = queries.chat_page(
        acting_user(request),
        tab=filters.tab,
        agent_id=filters.agent_id,
        department_id=filters.department_id,
        ticket_state=filters.ticket_state,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [chat_fields(view) for view in page.items], "next_cursor": page.next_cursor}


@router.get("/summary", response={200: SummaryOut, **errors(400, 401)})
def chat_summary(request: HttpRequest, filters: Query[SummaryQuery]) -> TabSummary:
    return queries.tab_summary(filters.tab, seen_by=acting_user(request))


class BulkIn(Schema):
    """One action on several chats: each goes through the same rules as when acted on alone."""

    action: Literal["assign", "close", "reopen"]
    chat_ids: list[int] = Field(..., min_length=1, max_length=bulk.MAX_BULK)
    agent_id: int | None = Field(None, description="assign: to this agent…")
    department_id: int | None = Field(None, description="…or to this department's rule.")
    note: str = Field("", description="assign: shown to the receiving agent on the timeline.")
    override_capacity: bool = Field(False, description="assign: even beyond the capacity.")


class BulkRefusalOut(Schema):
    chat_id: int
    detail: str = Field(description="Why this chat was refused, as a sentence.")
    status: int = Field(description="The status the chat alone would have answered.")


class BulkOut(Schema):
    action: Literal["assign", "close", "reopen"]
    done: list[ChatOut] = Field(description="The chats acted on, as they are now.")
    refused: list[BulkRefusalOut] = Field(description="The chats refused, each with why.")


# Before "/{chat_id}": the path would otherwise be read as a chat id.
@router.post("/bulk", response={200: BulkOut, **errors(400, 401, 403)})
def bulk_action(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Supervisors and admins: assign, close or reopen several chats at once. Each chat is
    acted on by itself (one refused does not hold up the others): ``done`` lists those
    acted on, ``refused`` the others with the sentence each would have answered alone."""
    by = acting_user(request)
    target = None
    if payload.action == "assign":
        target = transfers.Target(
            agent_id=payload.agent_id,
            department_id=payload.department_id,
            note=payload.note,
            override_capacity=payload.override_capacity,
        )
    outcome = bulk.act_on_chats(
        action=payload.action, chat_ids=payload.chat_ids, by=by, target=target
    )
    return {
        "action": outcome.action,
        "done": [chat_fields(queries.chat_view(chat)) for chat in outcome.done],
        "refused": [
            {"chat_id": r.chat_id, "detail": r.sentence, "status": r.status_code}
            for r in outcome.refused
        ],
    }


@router.get("/{chat_id}", response={200: ChatOut, **errors(400, 401, 404)})
def get_chat(request: HttpRequest, chat_id: int) -> ChatOut:
    chat = access.chat_for(acting_user(request), chat_id)
    return chat_out(queries.chat_view(chat))


@router.get("/{chat_id}/messages", response={200: MessagePageOut, **errors(400, 401, 404)})
def list_messages(
    request: HttpRequest, chat_id: int, page: Query[PageQuery]
) -> queries.Page[Message]:
    chat = access.chat_for(acting_user(request), chat_id)
    return queries.message_page(chat, cursor=page.cursor, limit=page.limit)


@router.get("/{chat_id}/events", response={200: list[EventOut], **errors(400, 401, 404)})
def list_events(request: HttpRequest, chat_id: int) -> list[ChatEvent]:
    chat = access.chat_for(acting_user(request), chat_id)
    return list(queries.chat_events(chat))


class MessageIn(Schema):
    """Free text, or an approved template with one value per ``{{n}}`` placeholder."""

    text: str | None = None
    template_id: int | None = None
    variables: list[str] = Field(default_factory=list)


@router.post("/{chat_id}/messages", response={201: MessageOut, **errors(400, 401, 403, 404, 409)})
def post_message(request: HttpRequest, chat_id: int, payload: MessageIn) -> Status[Message]:
    message = send_message(
        chat_id=chat_id,
        reply=Reply(
            text=payload.text,
            template_id=payload.template_id,
            variables=tuple(payload.variables),
        ),
        by=acting_user(request),
    )
    return Status(201, message)


@router.post(
    "/{chat_id}/messages/{message_id}/retry",
    response={200: MessageOut, **errors(400, 401, 403, 404, 409)},
)
def retry_failed_message(request: HttpRequest, chat_id: int, message_id: int) -> Message:
    """Send a failed message again: the same message goes back to ``queued`` (with a fresh
    round of attempts). Only a failed message may be retried: a second retry is a 409."""
    return retry_message(chat_id=chat_id, message_id=message_id, by=acting_user(request))


class AssignIn(Schema):
    """To an agent, or to a department (whose rule picks the agent)."""

    agent_id: int | None = None
    department_id: int | None = None
    note: str = Field("", description="Shown to the receiving agent on the chat's timeline.")
    override_capacity: bool = Field(
        False, description="Supervisors only: assign even when the agent is at capacity."
    )
    expected_agent_id: int | None = Field(
        None,
        description=(
            "Who you saw holding the chat when you chose (null: nobody). When given and "
            "someone else has moved the chat since, the answer is 409 with who did, "
            'e.g. "Bob Agent already took this chat.", and nothing changes. Leave it '
            "out to assign whoever holds the chat now."
        ),
    )


def _chat_answer(request: HttpRequest, chat_id: int) -> ChatOut:
    return chat_out(queries.chat_view(access.chat_for(acting_user(request), chat_id)))


@router.post("/{chat_id}/assign", response={200: ChatOut, **errors(400, 401, 403, 404, 409)})
def assign(request: HttpRequest, chat_id: int, payload: AssignIn) -> ChatOut:
    chat = transfers.assign_chat(
        chat_id=chat_id,
        target=transfers.Target(
            agent_id=payload.agent_id,
            department_id=payload.department_id,
            note=payload.note,
            override_capacity=payload.override_capacity,
            checks_seen="expected_agent_id" in payload.model_fields_set,
            seen_agent_id=payload.expected_agent_id,
        ),
        by=acting_user(request),
    )
    return chat_out(queries.chat_view(chat))


@router.post("/{chat_id}/close", response={200: ChatOut, **errors(400, 401, 403, 404, 409)})
def close(request: HttpRequest, chat_id: int) -> ChatOut:
    lifecycle.close_chat(chat_id=chat_id, by=acting_user(request))
    return _chat_answer(request, chat_id)


@router.post("/{chat_id}/reopen", response={200: ChatOut, **errors(400, 401, 403, 404, 409)})
def reopen(request: HttpRequest, chat_id: int) -> ChatOut:
    lifecycle.reopen_chat(chat_id=chat_id, by=acting_user(request))
    return _chat_answer(request, chat_id)


class ReadOut(Schema):
    marked: bool = Field(
        description="True when this moved the agent's read marker; false for anyone else "
        "(a supervisor watching never marks a chat read for its agent)."
    )


@router.post("/{chat_id}/read", response={200: ReadOut, **errors(400, 401, 404)})
def mark_read(request: HttpRequest, chat_id: int) -> ReadOut:
    """The chat's agent has read it: its unread count starts again from zero."""
    return ReadOut(marked=mark_chat_read(chat_id=chat_id, by=acting_user(request)))


@router.post("/{chat_id}/accept", response={200: ChatOut, **errors(400, 401, 403, 404, 409)})
def accept(request: HttpRequest, chat_id: int) -> ChatOut:
    """An agent takes an unassigned ticket of their departments or of the desk's queue."""
    transfers.accept_tickets(by=acting_user(request), chat_id=chat_id)
    return _chat_answer(request, chat_id)


class AcceptOldestIn(Schema):
    count: int = Field(..., ge=1, le=transfers.MAX_ACCEPT)


class AcceptedOut(Schema):
    accepted: list[int]


@router.post("/tickets/accept-oldest", response={200: AcceptedOut, **errors(400, 401, 403)})
def accept_oldest(request: HttpRequest, payload: AcceptOldestIn) -> AcceptedOut:
    """An agent takes the N oldest unassigned tickets of their departments or of the desk's
    queue at once."""
    tickets = transfers.accept_tickets(by=acting_user(request), oldest=payload.count)
    return AcceptedOut(accepted=[t.pk for t in tickets])
