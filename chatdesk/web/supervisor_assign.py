"""The assign dialog: move a live chat or a ticket (or several tickets) to a department or
an agent. Only agents online and ``available`` are offered, with their load; a department
with nobody to take the chat is shown disabled with the reason. The service
(``transfers.assign_chat``) decides; its refusal is shown in the dialog as its sentence.

Agents use the same dialog to transfer their own live chats (no capacity override).

The dialog for one chat carries who held it when the dialog opened (``seen_agent``, kept
across its refreshes): the service refuses the assignment if someone else moved the chat
in between, naming who, rather than silently undoing their decision. After that refusal
the dialog shows the chat as it now is, so assigning again is a choice made knowingly.
The fragment is a ``<dialog data-assign-dialog>``; supervisor.js opens it, traps focus,
closes it on Esc, Cancel and success.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chatdesk.accounts.models import User
from chatdesk.chats import access
from chatdesk.chats import queries as chat_queries
from chatdesk.chats.models import Chat, ChatKind
from chatdesk.core.errors import DeskError, NotFound
from chatdesk.flows import bulk, transfers
from chatdesk.routing.models import Department
from chatdesk.routing.queries import agents_with_load
from chatdesk.web.supervisor_views import Refusal, refusals_named
from chatdesk.web.views import SUPERVISORS_ONLY, oversees, role_required

SIGNED_IN = "Sign in to assign chats."
MAX_BULK = bulk.MAX_BULK


@dataclass(frozen=True)
class AgentChoice:
    id: int
    name: str
    open_chats: int
    capacity: int
    department_ids: frozenset[int]
    has_room: bool  # routing's answer: below capacity, so they can take a live chat now

    @property
    def full(self) -> bool:
        return not self.has_room


@dataclass(frozen=True)
class DepartmentChoice:
    id: int
    name: str
    reason: str  # why it cannot be chosen; empty when it can

    @property
    def disabled(self) -> bool:
        return bool(self.reason)


@dataclass
class AssignForm:
    """What the dialog shows: its chats, the choices, what was picked and what went wrong."""

    chats: list[Chat]
    user: User
    departments: list[DepartmentChoice] = field(default_factory=list)
    agents: list[AgentChoice] = field(default_factory=list)
    department: int | None = None
    agent: int | None = None
    note: str = ""
    override_capacity: bool = False
    seen_agent: int | None = None  # who held the chat when the dialog opened
    error: str = ""
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def is_bulk(self) -> bool:
        return len(self.chats) != 1

    @property
    def live(self) -> bool:
        """Live chats can go to a department; tickets go to an agent."""
        return not self.is_bulk and self.chats[0].kind == ChatKind.CHAT

    @property
    def can_override(self) -> bool:
        return self.user.oversees and self.live

    @property
    def department_name(self) -> str:
        return next((d.name for d in self.departments if d.id == self.department), "")

    @property
    def title(self) -> str:
        if self.is_bulk:
            return f"Assign {len(self.chats)} tickets"
        chat = self.chats[0]
        who = chat.contact.name or chat.contact.address
        kind = "chat" if chat.kind == ChatKind.CHAT else "ticket"
        return f"Assign the {kind} with {who}"


def _online_agents(exclude: set[int]) -> list[AgentChoice]:
    """Agents online and ``available``, least loaded first, each with their load and
    whether they have room: routing's own reading (``agents_with_load``)."""
    rows = (
        agents_with_load(None)
        .exclude(pk__in=exclude)
        .prefetch_related("departments")
        .order_by("open_chats", "display_name", "username", "pk")
    )
    return [
        AgentChoice(
            id=agent.pk,
            name=agent.name,
            open_chats=int(getattr(agent, "open_chats", 0)),
            capacity=agent.capacity,
            department_ids=frozenset(d.pk for d in agent.departments.all()),
            has_room=bool(getattr(agent, "has_room", False)),
        )
        for agent in rows
    ]


def who_can_take(
    chats: list[Chat], *, live: bool
) -> tuple[list[AgentChoice], list[DepartmentChoice]]:
    """Who can take these chats now: the agents online and available (least loaded first,
    each with their load) and every department, each with its reason when nobody there
    can take a chat.

    The load and the room come from routing's one query (``agents_with_load``, the rule
    ``assign_chat`` applies), so the dialog's "2/5" never disagrees with routing."""
    holders = {c.agent_id for c in chats if c.agent_id is not None}
    everyone = _online_agents(holders)
    departments: list[DepartmentChoice] = []
    for department in Department.objects.order_by("name"):
        members = [a for a in everyone if department.pk in a.department_ids]
        # A live chat needs room in someone's capacity; tickets do not count against it.
        takers = [a for a in members if not a.full] if live else members
        reason = "" if takers else f"No agent available in {department.name}"
        departments.append(DepartmentChoice(department.pk, department.name, reason))
    return everyone, departments


def fill_choices(form: AssignForm) -> None:
    """The departments and the agents the dialog offers, read fresh."""
    everyone, departments = who_can_take(form.chats, live=form.live)
    form.departments = departments
    if form.department is not None and not any(
        d.id == form.department and not d.disabled for d in departments
    ):
        form.department = None
    form.agents = [
        a for a in everyone if form.department is None or form.department in a.department_ids
    ]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _chats(user: User, ids: list[int]) -> list[Chat]:
    chats = []
    for chat_id in ids:
        chat = access.chat_for(user, chat_id)
        chats.append(chat)
    return chats


def _read(request: HttpRequest, chats: list[Chat]) -> AssignForm:
    user = request.user
    assert isinstance(user, User)
    data = request.POST if request.method == "POST" else request.GET
    # Opened afresh, the dialog sees the chat as it is now; refreshed or sent, it keeps
    # what it saw then.
    if "seen_agent" in data:
        seen = _int(data["seen_agent"])
    else:
        seen = chats[0].agent_id if len(chats) == 1 else None
    return AssignForm(
        chats=chats,
        user=user,
        department=_int(data.get("department")),
        agent=_int(data.get("agent")),
        note=data.get("note", "")[: transfers.MAX_NOTE + 1],
        override_capacity=data.get("override_capacity") == "on",
        seen_agent=seen,
    )


def _render(
    request: HttpRequest, form: AssignForm, post_url: str, status: int = 200
) -> HttpResponse:
    fill_choices(form)
    whole = request.method == "GET" and request.GET.get("part") != "form"
    return render(
        request,
        "web/_supervisor_assign.html",
        {
            "form": form,
            "post_url": post_url,
            "whole": whole,
            "note_limit": transfers.MAX_NOTE,
        },
        status=status,
    )


def _assign(form: AssignForm) -> tuple[list[Chat], list[Refusal]]:
    if form.agent is None and (form.department is None or not form.live):
        raise _Invalid("Choose an agent." if not form.live else "Choose a department or an agent.")
    target = transfers.Target(
        agent_id=form.agent,
        department_id=None if form.agent is not None else form.department,
        note=form.note,
        override_capacity=form.override_capacity and form.can_override,
        checks_seen=not form.is_bulk,
        seen_agent_id=form.seen_agent,
    )
    if form.is_bulk:
        # The console's selection: one bulk flow, a refusal per chat that did not go.
        outcome = bulk.assign_chats(
            chat_ids=[c.pk for c in form.chats], target=target, by=form.user
        )
        return outcome.done, refusals_named(outcome.refused)
    chat = form.chats[0]
    try:
        return [transfers.assign_chat(chat_id=chat.pk, target=target, by=form.user)], []
    except DeskError as refusal:
        name = chat.contact.name or chat.contact.address
        # The dialog shows the chat as it is now (who holds it, what may be chosen), if
        # the user may still see it.
        with contextlib.suppress(NotFound):
            form.chats = _chats(form.user, [chat.pk])
            form.seen_agent = form.chats[0].agent_id
        return [], [Refusal(chat.pk, name, refusal.detail)]


def _kind(chat: Chat) -> str:
    return "chat" if chat.kind == ChatKind.CHAT else "ticket"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class _Invalid(Exception):
    pass


def _answer(request: HttpRequest, form: AssignForm, post_url: str) -> HttpResponse:
    try:
        done, refusals = _assign(form)
    except _Invalid as invalid:
        form.error = str(invalid)
        return _render(request, form, post_url, status=200 if _is_htmx(request) else 400)
    if refusals and not form.is_bulk:
        form.error = refusals[0].sentence
        return _render(request, form, post_url, status=200 if _is_htmx(request) else 409)
    if done:
        agent = done[0].agent
        who = agent.name if agent is not None else "the department"
        what = (
            f"the {_kind(done[0])}"
            if not form.is_bulk
            else f"{len(done)} ticket{'s' if len(done) > 1 else ''}"
        )
        # An agent moves their own live chat on: a transfer, in their words.
        verb = "Assigned" if form.user.oversees else "Transferred"
        message = f"{verb} {what} to {who}."
    else:
        message = ""
    if refusals:
        # Some of the selection went, some did not: the dialog stays, listing why.
        form.refusals = refusals
        form.chats = [c for c in form.chats if c.pk in {r.chat_id for r in refusals}]
        form.error = (message + " " if message else "") + "Not assigned:"
        response = _render(request, form, post_url)
    else:
        response = render(request, "web/_supervisor_assigned.html", {"message": message})
    if done:
        events: dict[str, str | None] = {"desk:lists": None}
        if not refusals:
            events["desk:assigned"] = message
        response["HX-Trigger"] = json.dumps(events)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(lambda user: True, SIGNED_IN)
def chat_assign(request: HttpRequest, chat_id: int) -> HttpResponse:
    """GET: the dialog for one chat or ticket (``part=form``: the form alone, refreshed).
    POST: assign it; a refusal comes back as the form with the service's sentence."""
    user = request.user
    assert isinstance(user, User)
    try:
        chats = _chats(user, [chat_id])
    except NotFound as missing:
        return HttpResponse(missing.detail, status=404)
    form = _read(request, chats)
    post_url = reverse("chat-assign", args=[chat_id])
    if request.method == "GET":
        return _render(request, form, post_url)
    return _answer(request, form, post_url)


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(oversees, SUPERVISORS_ONLY)
def tickets_assign(request: HttpRequest) -> HttpResponse:
    """The same dialog for the tickets selected in the console (``chat=ID`` each)."""
    user = request.user
    assert isinstance(user, User)
    data = request.POST if request.method == "POST" else request.GET
    ids = sorted({int(v) for v in data.getlist("chat") if v.isdigit()})[:MAX_BULK]
    if not ids:
        return render(
            request,
            "web/_supervisor_status.html",
            {"message": "Select at least one ticket first."},
        )
    chats = chat_queries.chats_with_contacts(ids)
    form = _read(request, chats)
    post_url = reverse("supervisor-tickets-assign")
    if request.method == "GET":
        return _render(request, form, post_url)
    return _answer(request, form, post_url)
