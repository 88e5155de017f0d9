"""An agent whose chats a sweep handed to others is told which chats and why: one
notification per chat in the bell (and its live event), naming the reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from chatdesk.accounts.models import Presence, User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, Contact, Notification
from chatdesk.core import clock
from chatdesk.flows import presence as presence_flow
from chatdesk.flows import queues
from chatdesk.providers.models import Channel
from chatdesk.realtime.models import LiveEvent, LiveEventType

pytestmark = pytest.mark.django_db(transaction=True)


def held_chat(channel: Channel, agent: User, name: str, phone: str) -> Chat:
    now = clock.now()
    return Chat.objects.create(
        kind=ChatKind.CHAT,
        status=ChatStatus.OPEN,
        channel=channel,
        contact=Contact.objects.create(phone=phone, name=name),
        agent=agent,
        department=channel.department,
        created_at=now,
        assigned_at=now,
    )


def at_the_desk(user: User, tab: str) -> None:
    presence_flow.set_presence(user=user, status=Presence.AVAILABLE)
    presence_flow.connection_opened(user=user, channel_name=tab)


def bell_of(user: User) -> str:
    browser = Client()
    browser.force_login(user)
    response = browser.get("/notifications/bell/", {"open": "1"})
    assert response.status_code == 200
    return response.content.decode()


def notification_events_for(user: User) -> list[dict[str, Any]]:
    rows = LiveEvent.objects.filter(type=LiveEventType.NOTIFICATION_CREATED, user_id=user.pk)
    return [dict(row.data) | {"chat_id": row.chat_id} for row in rows.order_by("pk")]


def test_an_agent_disconnected_past_the_grace_is_told_which_chats_went_and_why(
    alice: User, bob: User, sandbox: Channel, api_as: Any, settings: Any
) -> None:
    settings.CHATDESK_OFFLINE_GRACE = 120
    at_the_desk(alice, "alice-tab")
    first = held_chat(sandbox, alice, "Carol Customer", "+27831110001")
    second = held_chat(sandbox, alice, "Dan Customer", "+27831110002")
    presence_flow.connection_closed(channel_name="alice-tab")

    with time_machine.travel(clock.now() + timedelta(seconds=121), tick=False):
        at_the_desk(bob, "bob-tab")
        assert presence_flow.expire_presence() == [alice.pk]

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.agent_id, second.agent_id) == (bob.pk, bob.pk)
    told = Notification.objects.filter(recipient=alice).order_by("chat_id")
    assert [(n.kind, n.chat_id) for n in told] == [
        ("disconnected", first.pk),
        ("disconnected", second.pk),
    ]
    assert sorted((e["kind"], e["chat_id"]) for e in notification_events_for(alice)) == [
        ("disconnected", first.pk),
        ("disconnected", second.pk),
    ]
    html = bell_of(alice)
    for name in ("Carol Customer", "Dan Customer"):
        assert (
            f"The chat with {name} went back to the queue for others: "
            "you were disconnected for more than 2 minutes"
        ) in html
    assert 'href="/agent/"' in html, "the chat is no longer hers to open"
    listed = api_as(alice).get("/notifications").json()
    assert sorted((n["kind"], n["chat_id"]) for n in listed) == sorted(
        [("disconnected", first.pk), ("disconnected", second.pk)]
    )
    assert not Notification.objects.filter(recipient=bob, kind="disconnected").exists()


def test_signing_out_hands_chats_on_without_a_notification(alice: User, sandbox: Channel) -> None:
    at_the_desk(alice, "alice-tab")
    chat = held_chat(sandbox, alice, "Carol Customer", "+27831110003")

    presence_flow.set_presence(user=alice, status=Presence.OFFLINE)

    chat.refresh_from_db()
    assert chat.agent_id is None
    assert not Notification.objects.filter(recipient=alice).exists(), "she chose to leave"


def test_an_agent_whose_unanswered_chat_went_to_another_is_told(
    alice: User, bob: User, sandbox: Channel, settings: Any
) -> None:
    settings.CHATDESK_UNANSWERED_REASSIGN = 180
    at_the_desk(alice, "alice-tab")
    at_the_desk(bob, "bob-tab")
    chat = held_chat(sandbox, alice, "Carol Customer", "+27831110004")
    Chat.objects.filter(pk=chat.pk).update(assigned_at=clock.now() - timedelta(seconds=181))

    assert queues.reassign_unanswered() == [chat.pk]

    chat.refresh_from_db()
    assert chat.agent_id == bob.pk
    assert [(n.kind, n.chat_id) for n in Notification.objects.filter(recipient=alice)] == [
        ("unanswered", chat.pk)
    ]
    assert "The chat with Carol Customer went to another agent: " in bell_of(alice)
    assert "its first message was not answered within 3 minutes" in bell_of(alice)
