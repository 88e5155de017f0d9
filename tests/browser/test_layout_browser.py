"""The console as panes, and the desk on a phone.

At 1366x768 the agent workspace and the supervisor console fill the window: the document
does not scroll, the lists and the chat panel scroll on their own, and the chat's header
and composer stay in view while its transcript scrolls between them; the rows are dense
enough to show at least twice as many chats as the first layout did. At 390x844 (a
phone, touch) the bell's menu is on screen, the top bar is one row, a ticket's actions show
without hovering, the panel's tabs are reachable and touch targets are at least 44 px.

The counts are read from the elements' boxes: a row counts when its whole box is inside
the window and inside every scrolling box around it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FloatRect, Page, ViewportSize, expect

from tests.support.browser import Server, log_in, wait_until_settled
from tests.support.personas import PASSWORD

SHOTS = Path(tempfile.gettempdir()) / "chatdesk-layout"
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}

# Fully visible chat rows at 1366x768 in the first layout (cards on a scrolling page,
# three-line rows), measured with the crowd below by count_visible_rows: the agent's lists
# showed 6 rows, the supervisor console 3.
AGENT_ROWS_BEFORE = 6
SUPERVISOR_ROWS_BEFORE = 3
TOUCH_TARGET = 44
PANEL_CONTROLS = ".cdp-tab, .cdp-button, .cdp-compose-row .button"

# dora, an agent of her own department, with a full desk: open chats with a message each,
# a long conversation, unassigned tickets in her queue, her own tickets and notifications.
CROWD = """
from datetime import timedelta
from chatdesk.accounts import services
from chatdesk.accounts.models import Presence, User
from chatdesk.chats.models import Chat, Contact, Message, Notification
from chatdesk.core import clock
from chatdesk.flows import presence
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department

layout = Department.objects.create(name="Layout")
dora = services.create_user(
    username="dora", password={password!r}, role="agent", display_name="Dora Dense",
    department_ids=[layout.pk], capacity=50,
)
presence.set_presence(user=dora, status=Presence.AVAILABLE)
channel = Channel.objects.create(kind="sandbox", name="Layout sandbox", department=layout)
now = clock.now()
names = ["Amara", "Bongani", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun"]

def make(number, name, **extra):
    contact = Contact.objects.create(phone=f"+2760000{{number:04d}}", name=name)
    at = now - timedelta(minutes=number)
    chat = Chat.objects.create(
        channel=channel, contact=contact, department=layout, created_at=at,
        last_message_at=at, **extra,
    )
    Message.objects.create(
        chat=chat, channel=channel, direction="in", created_at=at,
        text=f"Hello, this is {{name}} about order {{number}}.",
    )
    return chat

for number in range(30):
    make(number, f"{{names[number % 10]}} Customer {{number}}", agent=dora)
for number in range(30, 42):
    name = f"{{names[number % 10]}} Ticket {{number}}"
    make(number, name, kind="ticket", ticket_state="unassigned")
for number in range(42, 48):
    name = f"{{names[number % 10]}} Mine {{number}}"
    make(number, name, kind="ticket", ticket_state="assigned", agent=dora)
long = make(48, "Long Talk", agent=dora)
for step in range(60):
    Message.objects.create(
        chat=long, channel=channel, direction="in" if step % 2 else "out",
        text=f"Message {{step}} of a long conversation about a parcel.",
        created_at=now - timedelta(seconds=600 - step), status=None if step % 2 else "read",
    )
for chat in Chat.objects.filter(agent=dora)[:4]:
    Notification.objects.create(recipient=dora, kind="assigned", chat=chat, created_at=now)
"""

DISPERSE = """
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
Chat.objects.filter(contact__phone__startswith="+2760000").delete()
Contact.objects.filter(phone__startswith="+2760000").delete()
Channel.objects.filter(name="Layout sandbox").delete()
User.objects.filter(username="dora").delete()
Department.objects.filter(name="Layout").delete()
"""

# The rows whose whole box is inside the window and inside every box around it that clips.
COUNT_VISIBLE = """
(selector) => {
  let count = 0;
  for (const row of document.querySelectorAll(selector)) {
    const box = row.getBoundingClientRect();
    if (box.height === 0) continue;
    let top = 0, bottom = window.innerHeight;
    for (let up = row.parentElement; up; up = up.parentElement) {
      if (getComputedStyle(up).overflowY === "visible") continue;
      const clip = up.getBoundingClientRect();
      if (up !== document.documentElement && up !== document.body) {
        top = Math.max(top, clip.top);
        bottom = Math.min(bottom, clip.bottom);
      }
    }
    if (box.top >= top - 0.5 && box.bottom <= bottom + 0.5) count += 1;
  }
  return count;
}
"""

DOCUMENT_OVERFLOW = """
() => document.scrollingElement.scrollHeight - window.innerHeight
"""


@pytest.fixture(scope="module")
def crowd(server: Server) -> Iterator[None]:
    server.chatdesk("shell", "-c", DISPERSE)
    server.chatdesk("shell", "-c", CROWD.format(password=PASSWORD))
    yield
    server.chatdesk("shell", "-c", DISPERSE)


@pytest.fixture
def open_page(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """``open_page(PHONE, touch=True)``: a fresh context of that size (a touch phone)."""
    contexts = []

    def make(viewport: ViewportSize, touch: bool = False) -> Page:
        context = browser.new_context(
            base_url=server_url, viewport=viewport, has_touch=touch, is_mobile=touch
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def count_visible_rows(page: Page, selector: str) -> int:
    return int(page.evaluate(COUNT_VISIBLE, selector))


def box(page: Page, selector: str) -> FloatRect:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def assert_in_window(page: Page, selector: str, what: str) -> None:
    size = page.viewport_size
    assert size is not None
    at = box(page, selector)
    assert at["x"] >= -0.5 and at["x"] + at["width"] <= size["width"] + 0.5, (
        f"{what} reaches past the window's sides: {at}"
    )
    assert at["y"] >= -0.5 and at["y"] + at["height"] <= size["height"] + 0.5, (
        f"{what} reaches past the window's top or bottom: {at}"
    )


def assert_document_does_not_scroll(page: Page) -> None:
    overflow = page.evaluate(DOCUMENT_OVERFLOW)
    assert overflow <= 0, f"the page itself scrolls by {overflow}px: only its panes should"


def assert_transcript_scrolls_between_head_and_composer(page: Page, scope: str) -> None:
    transcript = f"{scope} .cdp-transcript"
    expect(page.locator(transcript)).to_contain_text("Message 59 of a long conversation")
    sizes: dict[str, Any] = page.locator(transcript).evaluate(
        "el => ({scroll: el.scrollHeight, client: el.clientHeight})"
    )
    assert sizes["scroll"] > sizes["client"], f"the transcript does not scroll: {sizes}"
    for where in ("el => { el.scrollTop = 0; }", "el => { el.scrollTop = el.scrollHeight; }"):
        page.locator(transcript).evaluate(where)
        page.mouse.wheel(0, 400)
        assert_in_window(page, f"{scope} .cdp-head", "the chat's header")
        assert_in_window(page, f"{scope} .cdp-composer", "the composer")
        assert_document_does_not_scroll(page)


def test_the_agent_workspace_is_panes_with_dense_rows(
    open_page: Callable[..., Page], crowd: None
) -> None:
    dora = open_page(LAPTOP)
    log_in(dora, "dora")
    lists = dora.locator("#agent-lists")
    expect(lists.locator(".chat-item").filter(has_text="Long Talk")).to_have_count(1)
    expect(lists.locator(".chat-item").filter(has_text="Amara Ticket 30")).to_have_count(1)
    shoot(dora, "agent-1366")

    rows = count_visible_rows(dora, "#agent-lists .chat-item")
    assert rows >= 2 * AGENT_ROWS_BEFORE, (
        f"{rows} chat rows show at 1366x768; at least {2 * AGENT_ROWS_BEFORE} should"
    )
    assert_document_does_not_scroll(dora)
    # The lists scroll on their own: the last row can be brought into view.
    lists.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    assert count_visible_rows(dora, "#agent-lists .chat-item") >= 2 * AGENT_ROWS_BEFORE
    assert_document_does_not_scroll(dora)

    dora.get_by_role("link").filter(has_text="Long Talk").click()
    assert_transcript_scrolls_between_head_and_composer(dora, "#agent-chat")
    shoot(dora, "agent-chat-1366")


def test_the_supervisor_console_is_panes_with_dense_rows(
    open_page: Callable[..., Page], crowd: None
) -> None:
    sam = open_page(LAPTOP)
    log_in(sam, "sam")
    listing = sam.get_by_role("region", name="Open chats")
    expect(listing.locator(".sv-row").filter(has_text="Long Talk")).to_have_count(1)
    shoot(sam, "supervisor-1366")

    rows = count_visible_rows(sam, ".sv-row")
    assert rows >= 2 * SUPERVISOR_ROWS_BEFORE, (
        f"{rows} chat rows show at 1366x768; at least {2 * SUPERVISOR_ROWS_BEFORE} should"
    )
    assert_document_does_not_scroll(sam)
    listing.locator(".sv-rows").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    assert count_visible_rows(sam, ".sv-row") >= 2 * SUPERVISOR_ROWS_BEFORE
    assert_document_does_not_scroll(sam)

    listing.get_by_role("link").filter(has_text="Long Talk").click()
    assert_transcript_scrolls_between_head_and_composer(sam, "#chat-panel")
    rows = count_visible_rows(sam, ".sv-row")
    assert rows >= 2 * SUPERVISOR_ROWS_BEFORE, f"{rows} chat rows show beside the open chat"
    shoot(sam, "supervisor-chat-1366")


def test_the_chat_page_keeps_its_header_and_composer_in_view(
    open_page: Callable[..., Page], crowd: None
) -> None:
    sam = open_page(LAPTOP)
    log_in(sam, "sam")
    chat_id = sam.locator(".sv-row").filter(has_text="Long Talk").get_attribute("data-chat-id")
    sam.goto(f"/chats/{chat_id}/")
    assert_transcript_scrolls_between_head_and_composer(sam, "#chat-panel")
    shoot(sam, "panel-1366")


def touch_targets_too_small(page: Page, selector: str) -> list[str]:
    """The visible elements of ``selector`` smaller than a fingertip, described."""
    return list(
        page.evaluate(
            """([selector, least]) => [...document.querySelectorAll(selector)]
                .filter(el => el.getClientRects().length)
                .filter(el => getComputedStyle(el).visibility !== "hidden")
                .map(el => [el, el.getBoundingClientRect()])
                .filter(([el, r]) => r.width < least - 0.5 || r.height < least - 0.5)
                .map(([el, r]) => `${el.className || el.tagName} `
                  + `"${el.textContent.trim().slice(0, 30)}" `
                  + `${Math.round(r.width)}x${Math.round(r.height)}`)""",
            [selector, TOUCH_TARGET],
        )
    )


def assert_top_bar_is_one_row(page: Page) -> None:
    rows = page.evaluate(
        """() => {
          const bar = document.querySelector(".topbar-inner");
          const style = getComputedStyle(bar);
          const inner = bar.getBoundingClientRect().height
            - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
          const shown = ".brand, .mainnav a, .cdp-bell-button, .who button";
          const items = [...bar.querySelectorAll(shown)]
            .filter(el => el.getClientRects().length)
            .map(el => el.getBoundingClientRect());
          return {inner, tallest: Math.max(...items.map(r => r.height)),
                  tops: items.map(r => Math.round(r.top)),
                  rights: items.map(r => Math.round(r.right))};
        }"""
    )
    assert abs(rows["inner"] - rows["tallest"]) <= 1, f"the top bar is not one row: {rows}"
    assert max(rows["rights"]) <= PHONE["width"], f"the top bar reaches past the window: {rows}"


def assert_bell_menu_on_screen(page: Page) -> None:
    wait_until_settled(page)  # the bell has loaded its notifications
    page.locator(".cdp-bell-button").click()
    expect(page.locator(".cdp-bell-menu")).to_be_visible()
    assert_in_window(page, ".cdp-bell-menu", "the bell's menu")
    page.locator(".cdp-bell-button").click()
    expect(page.locator(".cdp-bell-menu")).to_be_hidden()


def assert_tabs_reachable(page: Page) -> None:
    for tab in page.locator(".cdp-tab").all():
        tab.scroll_into_view_if_needed()
        at = tab.bounding_box()
        assert at is not None and at["x"] >= 0 and at["x"] + at["width"] <= PHONE["width"] + 0.5, (
            f"the tab {tab.inner_text()!r} cannot be brought on screen: {at}"
        )
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")
    page.locator(".cdp-tab").first.click()


@pytest.mark.parametrize("touch", [True, False], ids=["touch", "narrow-window"])
def test_the_supervisor_console_on_a_phone(
    open_page: Callable[..., Page], crowd: None, touch: bool
) -> None:
    sam = open_page(PHONE, touch=touch)
    log_in(sam, "sam")
    expect(sam.locator(".sv-row").first).to_be_visible()
    assert_top_bar_is_one_row(sam)
    assert_bell_menu_on_screen(sam)
    width = sam.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"

    sam.locator("#tab-tickets").click()
    row = sam.locator(".sv-row").filter(has_text="Ticket 30")
    expect(row).to_be_visible()
    sam.mouse.move(1, 1)  # nothing hovered
    actions = row.locator(".sv-actions")
    opacity = actions.evaluate("el => getComputedStyle(el).opacity")
    assert float(opacity) == 1, f"a ticket's actions show only on hover (opacity {opacity})"
    for name in ("Assign", "Close", "Open"):
        button = actions.get_by_role("button", name=name, exact=True)
        expect(button).to_be_visible()
        at = button.bounding_box()
        assert at is not None and at["x"] + at["width"] <= PHONE["width"], f"{name} is off screen"
    shoot(sam, f"supervisor-390-{'touch' if touch else 'narrow'}")
    if touch:
        small = touch_targets_too_small(
            sam,
            ".mainnav a, .cdp-bell-button, .who button, .tab, .subtab, .sv-open, "
            ".sv-actions .button, .sv-agent, .sv-check-all, .sv-bulk .button",
        )
        assert not small, f"touch targets under {TOUCH_TARGET}px: {small}"

    row.locator(".sv-open").click()
    expect(sam.locator("#chat-panel .cdp")).to_be_visible()
    assert_tabs_reachable(sam)
    if touch:
        small = touch_targets_too_small(sam, PANEL_CONTROLS + ", .sv-back")
        assert not small, f"touch targets under {TOUCH_TARGET}px: {small}"
    shoot(sam, f"supervisor-panel-390-{'touch' if touch else 'narrow'}")


def test_the_agent_workspace_on_a_phone(open_page: Callable[..., Page], crowd: None) -> None:
    dora = open_page(PHONE, touch=True)
    log_in(dora, "dora")
    expect(dora.locator("#agent-lists .chat-item").first).to_be_visible()
    assert_top_bar_is_one_row(dora)
    assert_bell_menu_on_screen(dora)
    shoot(dora, "agent-390")
    queue = dora.get_by_role("region", name="Unassigned tickets")
    accept = queue.get_by_role("button", name="Accept the ticket of Amara Ticket 30")
    accept.scroll_into_view_if_needed()
    expect(accept).to_be_visible()
    small = touch_targets_too_small(
        dora,
        ".mainnav a, .cdp-bell-button, .who button, .ws-open, .ws-row-action .button, "
        ".ws-switch-option, .ws-accept-oldest .button, .ws-accept-oldest input",
    )
    assert not small, f"touch targets under {TOUCH_TARGET}px: {small}"

    dora.get_by_role("link").filter(has_text="Long Talk").click()
    expect(dora.locator("#chat-panel .cdp")).to_be_visible()
    assert_tabs_reachable(dora)
    assert_in_window(dora, "#agent-chat .cdp-compose-form", "the composer")
    small = touch_targets_too_small(dora, PANEL_CONTROLS + ", .ws-back")
    assert not small, f"touch targets under {TOUCH_TARGET}px: {small}"
    shoot(dora, "agent-chat-390")
