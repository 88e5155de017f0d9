"""Under the Content-Security-Policy every page still works in Chromium: not one
violation is reported while the pages load, go live and open a chat."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.support.browser import log_in


def violations(page: Page) -> list[str]:
    seen: list[str] = []

    def heard(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.append(message.text)

    page.on("console", heard)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


@pytest.mark.parametrize(
    ("username", "path"),
    [("alice", "/agent/"), ("sam", "/supervisor/"), ("ada", "/setup/")],
)
def test_signed_in_pages_run_under_the_policy(
    new_page: Callable[..., Page], username: str, path: str
) -> None:
    page = new_page()
    seen = violations(page)
    log_in(page, username)
    expect(page).to_have_url(re.compile(re.escape(path)))
    if path != "/setup/":
        expect(page.locator("html")).to_have_attribute("data-live", "on")
        rows = page.locator("[data-chat-id] a, .chat-item a").first
        if rows.count():
            rows.click()
            expect(page.locator("#chat-panel")).not_to_be_empty()
    page.wait_for_load_state("networkidle")
    assert seen == []


def test_the_simulator_runs_under_the_policy(new_page: Callable[..., Page]) -> None:
    page = new_page()
    seen = violations(page)
    page.goto("/simulator/")
    page.get_by_role("button", name="New customer").click()
    page.get_by_role("button", name="Start chatting").click()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert seen == []
