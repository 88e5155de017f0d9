"""Presence is one clear state: an agent is Available or Away, shown with whether their
page is connected; signing in brings back what they last chose (a new agent: Available),
so nobody is left connected but silently out of routing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from chatdesk.accounts.models import Presence, Role, User
from chatdesk.chats.models import Chat, ChatKind, ChatStatus, Contact
from chatdesk.core import clock
from chatdesk.flows import presence as presence_flow
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
from chatdesk.routing.queries import agents_who_can_take_a_chat
from tests.support.personas import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

_phones = iter(range(1, 1_000_000))


def waiting_chat(channel: Channel) -> Chat:
    """A live chat in the channel's department queue, waiting for an agent."""
    now = clock.now()
    return Chat.objects.create(
        kind=ChatKind.CHAT,
        status=ChatStatus.OPEN,
        channel=channel,
        contact=Contact.objects.create(phone=f"+2783{next(_phones):07d}"),
        department=channel.department,
        created_at=now,
        queued_at=now,
    )


def sign_in(user: User) -> Client:
    """The login form, as a person fills it in."""
    browser = Client()
    response = browser.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return browser


def routable(user: User, channel: Channel) -> bool:
    return agents_who_can_take_a_chat(channel.department_id).filter(pk=user.pk).exists()


def switch(browser: Client) -> str:
    html = browser.get("/agent/presence/").content.decode()
    return html


def pressed(html: str) -> list[str]:
    return re.findall(r'value="(available|away)"[^>]*aria-pressed="true"', html)


def test_a_new_agent_who_signs_in_is_available_and_gets_chats(
    sandbox: Channel, sales: Department
) -> None:
    nina = make_user("nina", Role.AGENT, sales)
    assert nina.presence == Presence.OFFLINE  # nobody chose anything yet
    queued = waiting_chat(sandbox)

    browser = sign_in(nina)
    nina.refresh_from_db()
    assert nina.presence == Presence.AVAILABLE
    assert not routable(nina, sandbox), "not connected yet"

    presence_flow.connection_opened(user=nina, channel_name="nina-tab")

    assert routable(nina, sandbox)
    queued.refresh_from_db()
    assert queued.agent_id == nina.pk
    html = switch(browser)
    assert pressed(html) == ["available"]
    assert "Connected · new chats come to you" in html
    assert "not receiving" not in html


@pytest.mark.parametrize("left_as", [Presence.AVAILABLE, Presence.AWAY])
def test_signing_out_and_in_again_comes_back_as_the_agent_left_it(
    alice: User, sandbox: Channel, left_as: str
) -> None:
    browser = sign_in(alice)
    presence_flow.set_presence(user=alice, status=left_as)
    browser.post("/logout/")
    alice.refresh_from_db()
    assert alice.presence == Presence.OFFLINE, "signing out still takes the agent out"

    browser = sign_in(alice)
    presence_flow.connection_opened(user=alice, channel_name="alice-tab")

    alice.refresh_from_db()
    assert alice.presence == left_as
    assert routable(alice, sandbox) is (left_as == Presence.AVAILABLE)
    assert pressed(switch(browser)) == [left_as]


def test_an_agent_back_after_the_grace_period_is_available_again(
    alice: User, sandbox: Channel, settings: Any
) -> None:
    settings.CHATDESK_OFFLINE_GRACE = 120
    sign_in(alice)
    presence_flow.connection_opened(user=alice, channel_name="alice-tab")
    assert routable(alice, sandbox)
    held = waiting_chat(sandbox)
    Chat.objects.filter(pk=held.pk).update(agent=alice, queued_at=None)
    presence_flow.connection_closed(channel_name="alice-tab")

    with time_machine.travel(clock.now() + timedelta(seconds=121), tick=False):
        assert presence_flow.expire_presence() == [alice.pk]
        held.refresh_from_db()
        assert held.agent_id is None, "her chat went back to the queue"
        presence_flow.connection_opened(user=alice, channel_name="alice-tab-again")

        alice.refresh_from_db()
        assert alice.presence == Presence.AVAILABLE
        assert routable(alice, sandbox)
        held.refresh_from_db()
        assert held.agent_id == alice.pk, "back and available: the waiting chat comes to her"


def test_an_agent_connected_but_signed_out_of_routing_is_asked_to_choose(
    alice: User, sandbox: Channel, api_as: Any
) -> None:
    # An integration (or a sign-out in another browser) made her offline while this page
    # stays connected: the switch says so and asks, rather than showing neither.
    browser = sign_in(alice)
    presence_flow.connection_opened(user=alice, channel_name="alice-tab")
    assert api_as(alice).put("/me/presence", {"status": "offline"}).status_code == 200

    html = switch(browser)

    assert pressed(html) == []
    assert "Connected · not receiving chats" in html
    assert "Choose Available to receive chats, or Away." in html
    assert "offline for routing" not in html
    assert not routable(alice, sandbox)
