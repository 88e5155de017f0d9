"""``load_demo`` in process: something in every tab, every constraint held, idempotent."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import RequestFactory

from chatdesk.accounts.models import Role, User
from chatdesk.chats.access import visible_chats
from chatdesk.chats.models import (
    Chat,
    ChatEvent,
    ChatKind,
    ChatStatus,
    ClosedBy,
    Comment,
    Contact,
    Direction,
    EventKind,
    Message,
    Notification,
    NotificationKind,
    TicketState,
)
from chatdesk.core import clock
from chatdesk.demo.loader import (
    ADMIN_PASSWORD,
    DEMO_CHANNEL_NAME,
    USERS,
    describe,
    load_demo,
)
from chatdesk.providers.models import Channel, ChannelKind, Template, TemplateStatus
from chatdesk.routing import desk_zone
from chatdesk.routing.models import BusinessHours, Department
from tests.support.chats import write_in

pytestmark = pytest.mark.django_db


def sign_in() -> HttpRequest:
    """The request a sign-in comes with (the sign-in throttle needs one)."""
    return RequestFactory().post("/login/")


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_every_tab_has_chats() -> None:
    load_demo()

    live = Chat.objects.filter(kind=ChatKind.CHAT, status=ChatStatus.OPEN)
    closed = Chat.objects.filter(kind=ChatKind.CHAT, status=ChatStatus.CLOSED)
    tickets = Chat.objects.filter(kind=ChatKind.TICKET)
    assert live.count() >= 4
    assert all(chat.agent is not None for chat in live)
    assert {chat.agent.username for chat in live if chat.agent} >= {"thandi", "pieter", "james"}
    assert set(closed.values_list("closed_by", flat=True)) == {ClosedBy.AGENT, ClosedBy.CONTACT}
    assert set(tickets.values_list("ticket_state", flat=True)) == set(TicketState.values)
    assert tickets.get(ticket_state=TicketState.UNASSIGNED).agent is None
    assert tickets.get(ticket_state=TicketState.ASSIGNED).agent is not None


def test_every_row_keeps_the_model_constraints() -> None:
    load_demo()

    for model in (Chat, Message, Comment, Notification, ChatEvent, Contact, Template, User):
        for row in model._default_manager.all():
            row.validate_constraints()
    for chat in Chat.objects.all():
        assert (chat.closed_at is not None) == (chat.status == ChatStatus.CLOSED)
        assert chat.messages.exists()
        assert chat.events.filter(kind=EventKind.CREATED).count() == 1
        assert chat.last_message_at == max(m.created_at for m in chat.messages.all())
        assert chat.created_at <= clock.now()
    assert not Message.objects.filter(direction=Direction.IN, status__isnull=False).exists()
    assert not Message.objects.filter(direction=Direction.OUT, status__isnull=True).exists()
    statuses = set(Message.objects.filter(direction=Direction.OUT).values_list("status", flat=True))
    assert statuses == {"sent", "delivered", "read", "failed"}


def test_people_and_their_logins() -> None:
    summary = load_demo()

    roles = sorted(User.objects.values_list("role", flat=True))
    assert roles == sorted([Role.AGENT] * 4 + [Role.SUPERVISOR, Role.ADMIN])
    for name in ("Sales", "Support"):
        department = Department.objects.get(name=name)
        assert department.members.filter(role=Role.AGENT).count() == 2
    # Agents are available: signing in (an open page) is all it takes to get chats.
    assert set(User.objects.filter(role=Role.AGENT).values_list("presence", flat=True)) == {
        "available"
    }
    for spec in USERS:
        user = authenticate(sign_in(), username=spec.username, password=spec.password)
        assert isinstance(user, User)
        assert user.display_name == spec.display_name
    assert [login.username for login in summary.logins] == [u.username for u in USERS]
    text = describe(summary)
    rows = [line.split() for line in text.splitlines()]
    assert ["grace", "admin", ADMIN_PASSWORD, "Grace", "Botha"] in rows


def test_channel_templates_business_hours_and_contacts() -> None:
    load_demo()

    channel = Channel.objects.get(name=DEMO_CHANNEL_NAME)
    assert channel.kind == ChannelKind.SANDBOX
    templates = {t.name: t for t in channel.templates.all()}
    assert templates["order_update"].status == TemplateStatus.APPROVED
    assert templates["appointment_reminder"].status == TemplateStatus.APPROVED
    assert templates["order_update"].variable_count >= 1
    assert [t.status for t in templates.values()].count(TemplateStatus.PENDING) == 1
    hours = BusinessHours.objects.get(department__isnull=True)
    assert hours.timezone == "Africa/Johannesburg"
    assert [(w.day, w.start, w.end) for w in hours.weekly.all()] == [
        (day, time(8), time(17)) for day in range(5)
    ]
    holiday = hours.exceptions.get(closed=True)
    assert (holiday.date.month, holiday.date.day) == (12, 25)
    for contact in Contact.objects.all():
        number = phonenumbers.parse(contact.phone or "")
        assert phonenumbers.is_valid_number(number), contact.phone
        assert contact.phone == phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.E164
        )


def test_comments_mentions_notifications_and_timeline() -> None:
    load_demo()

    mention = Notification.objects.get(kind=NotificationKind.MENTION)
    assert mention.comment is not None
    assert mention.recipient.username == "james"
    assert list(mention.comment.mentions.all()) == [mention.recipient]
    assert "@james" in mention.comment.body
    assert mention.chat == mention.comment.chat
    assert Comment.objects.count() >= 2
    kinds = set(ChatEvent.objects.values_list("kind", flat=True))
    assert kinds >= {
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.TRANSFERRED,
        EventKind.TICKETED,
        EventKind.TICKET_ACCEPTED,
        EventKind.COMMENTED,
        EventKind.CLOSED,
        EventKind.REENGAGED,
    }
    template_message = Message.objects.get(template__name="appointment_reminder")
    assert template_message.text.startswith("Hi Nomsa, this is a reminder")
    assert "{{" not in template_message.text


def test_loading_twice_changes_nothing() -> None:
    load_demo()
    before = row_counts()
    ids = sorted(Chat.objects.values_list("pk", flat=True))

    summary = load_demo()

    assert row_counts() == before
    assert sorted(Chat.objects.values_list("pk", flat=True)) == ids
    assert summary.created == {}
    assert summary.chats == len(ids)


def test_a_later_run_completes_what_is_missing_and_keeps_changes() -> None:
    load_demo()
    grace = User.objects.get(username="grace")
    grace.set_password("grace-chose-her-own")
    grace.save()
    Template.objects.filter(name="spring_promotion").delete()
    User.objects.filter(username="james").update(display_name="Jimmy")
    chats = Chat.objects.count()

    summary = load_demo()

    assert summary.created == {"template": 1}
    assert Template.objects.filter(name="spring_promotion").exists()
    assert authenticate(sign_in(), username="grace", password="grace-chose-her-own") is not None
    assert User.objects.get(username="james").display_name == "Jimmy"
    assert Chat.objects.count() == chats


def test_timestamps_follow_the_clock(time_machine: Any) -> None:
    time_machine.move_to("2030-03-04 10:00:00+02:00", tick=False)

    load_demo()

    now = clock.now()
    latest = Message.objects.order_by("-created_at").first()
    assert latest is not None
    assert now - timedelta(hours=1) < latest.created_at <= now
    assert Chat.objects.order_by("created_at").first().created_at > now - timedelta(days=7)  # type: ignore[union-attr]


def test_no_demo_ticket_is_beyond_every_agents_reach() -> None:
    """The demo's sandbox has no department: what a customer writes there out of hours
    waits in the desk's queue, which every agent sees and may accept."""
    load_demo()
    channel = Channel.objects.get(name=DEMO_CHANNEL_NAME)
    assert channel.department_id is None
    written = write_in(channel, "+27825550199", "Is anyone there?")  # nobody is online
    ticket = Chat.objects.get(pk=written.chat_id)
    assert ticket.kind == ChatKind.TICKET and ticket.ticket_state == TicketState.UNASSIGNED
    agents = list(User.objects.filter(role=Role.AGENT))
    assert len(agents) == 4
    for agent in agents:
        assert visible_chats(agent).filter(pk=ticket.pk).exists(), agent.username
    for waiting in Chat.objects.filter(ticket_state=TicketState.UNASSIGNED):
        assert any(visible_chats(a).filter(pk=waiting.pk).exists() for a in agents), waiting


def test_the_demo_shows_times_in_the_zone_the_readme_names(client) -> None:
    load_demo()
    desk_zone.keep_desk_time_zone(None)  # as a fresh process: read from the stored hours
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    named = "Africa/Johannesburg"
    assert f'the top bar says "Times in\n{named}"' in readme

    assert desk_zone.desk_time_zone().key == named
    client.force_login(User.objects.get(username="thandi"))
    page = client.get("/agent/").content.decode()
    words = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert f"Times in {named}" in words
