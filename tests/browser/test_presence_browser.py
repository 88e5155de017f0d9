"""Presence in Chromium: a new agent signs in and is Available and connected at once; she
chooses Away, signs out and in again and is Away again, as she left it; the supervisor sees
her as connected but not receiving. At 1366 px and on a phone (390 px)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server, log_in
from tests.support.live_pages import LIVE_DEADLINE_MS
from tests.support.personas import PASSWORD

SCREENSHOTS = "/tmp"

# Signing her out first sends any chat she took (the seed's waiting one) back to the queue,
# as the seed desk has it.
FORGET_NINA = """
from chatdesk.accounts.models import User
from chatdesk.flows.presence import set_presence
for user in User.objects.filter(username="nina"):
    set_presence(user=user, status="offline")
    user.delete()
"""


@pytest.fixture
def nina(server: Server) -> Iterator[str]:
    """A new agent of Sales, who never chose a presence."""
    server.chatdesk(
        "createuser", "nina", "--role", "agent", "--password", PASSWORD, "--department", "Sales"
    )
    yield "nina"
    server.chatdesk("shell", "-c", FORGET_NINA)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))


@pytest.mark.parametrize("width", [1366, 390])
def test_a_new_agent_sees_her_presence_and_chooses_it(
    new_page: Callable[..., Page], server_url: str, nina: str, width: int
) -> None:
    agent = new_page(width=width, height=768 if width > 400 else 844)
    log_in(agent, nina)
    expect(agent).to_have_url(server_url + "/agent/")
    expect(agent.locator("html")).to_have_attribute("data-live", "on")

    switch = agent.get_by_role("group", name="Presence")
    available = switch.get_by_role("button", name="Available")
    away = switch.get_by_role("button", name="Away")
    status = agent.locator(".ws-online")
    # A new agent is Available from her first sign-in, and her page is connected.
    expect(available).to_have_attribute("aria-pressed", "true")
    expect(away).to_have_attribute("aria-pressed", "false")
    expect(status).to_contain_text("Connected · new chats come to you")
    expect(agent.get_by_text("offline for routing")).to_have_count(0)
    assert agent.request.get(server_url + "/api/v1/me/presence").json() == {
        "status": "available",
        "online": True,
    }
    agent.screenshot(path=f"{SCREENSHOTS}/presence-new-agent-{width}.png")

    away.click()
    expect(away).to_have_attribute("aria-pressed", "true")
    expect(status).to_contain_text("Connected · away, no new chats")

    # The supervisor sees her at the desk but not receiving chats.
    supervisor = new_page(width=width, height=768 if width > 400 else 844)
    log_in(supervisor, "sam")
    expect(supervisor).to_have_url(server_url + "/supervisor/")
    team = supervisor.locator("#sv-team")
    member = team.locator(".sv-team-member").filter(has_text="nina")
    expect(member).to_contain_text("Connected · Away")
    expect(team).to_contain_text("not receiving (away or not connected)")
    supervisor.screenshot(path=f"{SCREENSHOTS}/presence-supervisor-team-{width}.png")

    # She signs out and in again: Away, as she left it; the strip follows live.
    sign_out(agent)
    expect(member).to_contain_text("Signed out", timeout=LIVE_DEADLINE_MS)
    log_in(agent, nina)
    expect(agent).to_have_url(server_url + "/agent/")
    expect(agent.locator("html")).to_have_attribute("data-live", "on")
    expect(away).to_have_attribute("aria-pressed", "true")
    expect(status).to_contain_text("Connected · away, no new chats")
    expect(member).to_contain_text("Connected · Away", timeout=LIVE_DEADLINE_MS)

    available.click()
    expect(available).to_have_attribute("aria-pressed", "true")
    expect(member).to_contain_text("Available · connected", timeout=LIVE_DEADLINE_MS)
    agent.screenshot(path=f"{SCREENSHOTS}/presence-back-available-{width}.png")
    assert int(agent.evaluate("document.documentElement.scrollWidth")) <= width
