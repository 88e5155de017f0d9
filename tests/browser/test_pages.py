"""What a person does in the browser: sign in as each role, see their home, sign out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import log_in


def test_login_page_looks_right(page: Page, screenshot):
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_focused()
    screenshot(page, "login")


def test_admin_lands_on_the_setup_index(page: Page, server_url: str, screenshot):
    log_in(page, "ada")
    expect(page).to_have_url(server_url + "/setup/")
    expect(page.get_by_role("heading", name="Set up the desk")).to_be_visible()
    expect(page.get_by_role("link", name="Channels", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Departments", exact=True)).to_be_visible()
    screenshot(page, "setup")


def test_admin_sees_channels_without_their_secrets(page: Page):
    log_in(page, "ada")
    page.goto("/setup/providers/channel/")
    page.get_by_role("link", name="WhatsApp Sales").click()
    expect(page.get_by_label("Access token")).to_have_value("")
    expect(page.get_by_text("Set. Leave blank to keep it").first).to_be_visible()


def test_supervisor_sees_the_three_tabs_with_counts(page: Page, server_url: str, screenshot):
    log_in(page, "sam")
    expect(page).to_have_url(server_url + "/supervisor/")
    tabs = page.get_by_role("navigation", name="Chat lists")
    expect(tabs.get_by_role("link", name="Chats 4")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Closed 1")).to_be_visible()
    expect(tabs.get_by_role("link", name="Tickets 2")).to_be_visible()
    by_agent = page.get_by_role("region", name="By agent")
    expect(by_agent).to_contain_text("Alice Agent")
    expect(by_agent).to_contain_text("Waiting for an agent")
    expect(page.get_by_text("Sam Supervisor")).to_be_visible()
    screenshot(page, "supervisor")

    tabs.get_by_role("link", name="Tickets 2").click()
    expect(page).to_have_url(re.compile(r"\?tab=tickets$"))
    expect(page.get_by_role("region", name="Tickets")).to_contain_text("Oliver Smith")


def test_agent_sees_the_workspace(page: Page, server_url: str, screenshot):
    log_in(page, "alice")
    expect(page).to_have_url(server_url + "/agent/")
    expect(page.get_by_role("heading", name="My chats")).to_be_visible()
    live = page.get_by_role("region", name="Live chats")
    expect(live).to_contain_text("Carol Customer")
    expect(live).to_contain_text("Thabo Mokoena")
    expect(live).not_to_contain_text("Jana Schmidt")
    screenshot(page, "agent")


def test_an_open_agent_page_makes_the_agent_online(page: Page, server_url: str):
    def presence() -> dict[str, object]:
        response = page.request.get(server_url + "/api/v1/me/presence")
        assert response.status == 200
        return response.json()

    log_in(page, "bob")
    expect(page).to_have_url(server_url + "/agent/")
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=10_000)
    assert presence()["online"] is True
    page.goto(server_url + "/logout/")
    page.get_by_role("button", name="Log out").last.click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_agent_is_refused_the_supervisor_console(page: Page):
    log_in(page, "alice")
    response = page.goto("/supervisor/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You can't open this page")).to_be_visible()


def test_a_wrong_password_shows_a_readable_error(page: Page, server_url: str):
    log_in(page, "alice", "not-the-password")
    expect(page).to_have_url(server_url + "/login/")
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
    expect(page.get_by_label("Username")).to_have_value("alice")


def test_logging_out_from_the_header(page: Page, server_url: str):
    log_in(page, "bob")
    expect(page).to_have_url(server_url + "/agent/")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(server_url + "/login/")
    page.goto("/agent/")
    expect(page).to_have_url(server_url + "/login/?next=/agent/")


def _horizontal_overflow(page: Page) -> int:
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_login_page_has_no_horizontal_scroll_at_390px(new_page):
    page = new_page(width=390, height=844)
    page.goto("/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert _horizontal_overflow(page) == 0


def test_consoles_have_no_horizontal_scroll_at_390px(new_page):
    for username, path in (("sam", "/supervisor/"), ("alice", "/agent/")):
        page = new_page(width=390, height=844)
        log_in(page, username)
        page.goto(path)
        assert _horizontal_overflow(page) == 0, path
