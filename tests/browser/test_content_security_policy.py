"""Under the Content-Security-Policy every page still works in Chromium: not one
violation is reported while the pages load, go live and open a chat."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.support.browser import log_in, wait_until_settled


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
    wait_until_settled(page)
    assert seen == []


def test_the_simulator_runs_under_the_policy(new_page: Callable[..., Page]) -> None:
    page = new_page()
    seen = violations(page)
    page.goto("/simulator/")
    page.get_by_role("button", name="New customer").click()
    page.get_by_role("button", name="Start chatting").click()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_visible()
    wait_until_settled(page)
    assert seen == []


def same_site_links(page: Page, prefix: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    return sorted({h.split("#")[0] for h in hrefs if h.startswith(prefix) and "logout" not in h})


@pytest.mark.parametrize("width", [1366, 390])
def test_every_page_loads_without_a_policy_violation(
    new_page: Callable[..., Page], width: int
) -> None:
    """Each page a person reaches (login, 404, simulator, the agent's workspace and a chat,
    the console and its tabs, the chat page, every set-up list, its add form and its first
    change form), at a
    desktop's and a phone's width: no violation in the console."""
    visited: dict[str, list[str]] = {}

    def visit(page: Page, seen: list[str], path: str) -> None:
        before = len(seen)
        page.goto(path)
        wait_until_settled(page)
        visited[path] = seen[before:]

    anonymous = new_page(width=width)
    seen = violations(anonymous)
    for path in ("/login/", "/login/?next=/agent/", "/no-such-page/", "/simulator/"):
        visit(anonymous, seen, path)

    agent = new_page(width=width)
    seen = violations(agent)
    log_in(agent, "alice")
    agent.wait_for_url(re.compile("/agent/"))
    chat_links = [h for h in same_site_links(agent, "/agent/chats/") if h.endswith("/")]
    assert chat_links, "alice has no chat to open"
    for path in ("/agent/", chat_links[0], chat_links[0].replace("/agent", ""), "/no-such/"):
        visit(agent, seen, path)

    supervisor = new_page(width=width)
    seen = violations(supervisor)
    log_in(supervisor, "sam")
    supervisor.wait_for_url(re.compile("/supervisor/"))
    for tab in ("chats", "tickets", "closed"):
        visit(supervisor, seen, f"/supervisor/?tab={tab}")

    admin = new_page(width=width)
    seen = violations(admin)
    log_in(admin, "ada")
    admin.wait_for_url(re.compile("/setup/"))
    lists = [h for h in same_site_links(admin, "/setup/") if h.count("/") == 4]
    assert len(lists) >= 5, lists
    for path in ["/setup/", *lists]:
        visit(admin, seen, path)
        changes = [h for h in same_site_links(admin, path) if h.endswith("/change/")]
        for form in [*same_site_links(admin, path + "add/")[:1], *changes[:1]]:
            visit(admin, seen, form)
    assert {path: found for path, found in visited.items() if found} == {}
    assert len(visited) >= 15
