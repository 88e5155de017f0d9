"""Times in a person's zone, in Chromium at 1366 and 390 px: alice's list and the top bar
in her own zone (Asia/Tokyo), and the page where she chooses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

SET_ZONE = """
from chatdesk.accounts.models import User
User.objects.filter(username="alice").update(time_zone={zone!r})
"""


@pytest.fixture
def alice_in_tokyo(server: Server) -> Iterator[None]:
    server.chatdesk("shell", "-c", SET_ZONE.format(zone="Asia/Tokyo"))
    yield
    server.chatdesk("shell", "-c", SET_ZONE.format(zone=""))


@pytest.mark.parametrize("width", [1366, 390])
def test_alices_list_and_top_bar_are_in_her_zone(
    new_page: Callable[..., Page],
    alice_in_tokyo: None,
    screenshot: Callable[[Page, str], None],
    width: int,
) -> None:
    page = new_page(width=width, height=800)
    log_in(page, "alice")
    page.goto("/agent/")
    zone = page.locator(".who-zone")
    expect(zone).to_be_visible()
    expect(zone).to_contain_text("Asia/Tokyo")
    times = page.locator("time.chat-time")
    expect(times.first).to_be_visible()
    for i in range(times.count()):
        element = times.nth(i)
        iso = element.get_attribute("datetime") or ""
        assert iso.endswith("+09:00"), iso
        shown = datetime.fromisoformat(iso)
        assert element.inner_text().endswith(f"{shown.hour:02d}:{shown.minute:02d}")
        assert (element.get_attribute("title") or "").endswith("JST (Asia/Tokyo)")
    screenshot(page, f"times-agent-{width}")


@pytest.mark.parametrize("width", [1366, 390])
def test_alice_chooses_her_zone(
    new_page: Callable[..., Page],
    alice_in_tokyo: None,
    screenshot: Callable[[Page, str], None],
    width: int,
) -> None:
    page = new_page(width=width, height=800)
    log_in(page, "alice")
    page.goto("/agent/")
    page.locator(".who-zone").click()
    expect(page.locator("h1")).to_have_text("Your time zone")
    expect(page.locator("[data-time-zone]")).to_have_text("Asia/Tokyo")
    screenshot(page, f"times-choose-{width}")
    page.select_option("#id_time_zone", "Europe/London")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/agent/")
    expect(page.locator(".who-zone")).to_contain_text("Europe/London")
    iso = page.locator("time.chat-time").first.get_attribute("datetime") or ""
    assert iso.endswith(("+00:00", "+01:00")), iso


def test_the_simulators_clock_is_the_desks_not_the_browsers(
    browser: Browser, server_url: str
) -> None:
    # The seed desk has no business hours: its zone is UTC; the browser is in Tokyo.
    context = browser.new_context(
        base_url=server_url, viewport={"width": 390, "height": 800}, timezone_id="Asia/Tokyo"
    )
    try:
        page = context.new_page()
        page.goto("/simulator/")
        clock = page.locator("[data-clock]")
        expect(clock).to_have_attribute("data-time-zone", "UTC")
        page.wait_for_timeout(200)
        shown = clock.inner_text()
        utc_now = datetime.now(UTC)
        allowed = {
            f"{t.hour:02d}:{t.minute:02d}" for t in (utc_now, utc_now - timedelta(minutes=1))
        }
        assert shown in allowed, (shown, allowed)
    finally:
        context.close()
