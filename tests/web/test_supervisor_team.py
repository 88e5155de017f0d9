"""Supervisors see every agent's presence with their connection, and who is at the desk
but not receiving chats (Away while connected, Available without a connection)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from chatdesk.accounts.models import Presence, User
from chatdesk.flows import presence as presence_flow


def chip_of(html: str, agent: User) -> str:
    member = rf'<li class="sv-team-member" data-agent-id="{agent.pk}">(.*?)</li>'
    row = re.search(member, html, re.S)
    assert row, f"{agent.username} is not listed"
    chip = re.search(r'class="presence-chip[^"]*"[^>]*>.*?</span>(.*?)</span>', row.group(1), re.S)
    assert chip
    return chip.group(1).strip()


def test_the_console_shows_who_is_online_but_not_receiving(
    client_as: Callable[[User], Client], alice: User, bob: User, dave: User, sam: User, db: Any
) -> None:
    presence_flow.set_presence(user=alice, status=Presence.AVAILABLE)
    presence_flow.connection_opened(user=alice, channel_name="alice-tab")
    presence_flow.set_presence(user=bob, status=Presence.AWAY)
    presence_flow.connection_opened(user=bob, channel_name="bob-tab")
    presence_flow.set_presence(user=dave, status=Presence.AVAILABLE)  # no page open

    html = client_as(sam).get("/supervisor/").content.decode()

    assert chip_of(html, alice) == "Available · connected"
    assert chip_of(html, bob) == "Connected · Away"
    assert chip_of(html, dave) == "Available · not connected"
    assert "1 receiving chats" in html
    assert "2 not receiving (away or not connected)" in html
    assert f'data-agent-id="{sam.pk}"' not in html, "only agents are listed"

    # The strip refreshes itself on every presence event, and reads the same.
    strip = re.search(r'<div id="sv-team"[^>]*>', html)
    assert strip and 'hx-trigger="desk:presence from:body' in strip.group(0)
    presence_flow.connection_closed(channel_name="alice-tab")
    fragment = client_as(sam).get("/supervisor/team/").content.decode()
    assert chip_of(fragment, alice) == "Available · not connected"
    assert "0 receiving chats" in fragment


def test_the_agent_summary_says_presence_and_connection_together(
    client_as: Callable[[User], Client], alice: User, sam: User
) -> None:
    presence_flow.set_presence(user=alice, status=Presence.AWAY)
    presence_flow.connection_opened(user=alice, channel_name="alice-tab")
    html = client_as(sam).get(f"/supervisor/lists/?tab=chats&agent={alice.pk}").content.decode()
    summary = re.search(r'<section class="card sv-summary".*?</section>', html, re.S)
    assert summary
    assert "Connected · Away" in summary.group(0)


def test_only_supervisors_see_the_team(
    client_as: Callable[[User], Client], alice: User, db: Any
) -> None:
    assert client_as(alice).get("/supervisor/team/").status_code == 403
