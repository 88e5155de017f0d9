"""The supervisor console with several people at once, each in their own browser context:
a customer's message shows in the console without a reload; the supervisor transfers
alice's chat to bob with the assign dialog and both agents' pages follow; a chat that
arrives out of hours is an unassigned ticket, which the supervisor assigns to alice; a chat
opened while the lists are refreshing live still opens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server
from tests.support.live_pages import (
    LIVE_DEADLINE_MS,
    Stream,
    customer_writes,
    not_reloaded,
    open_signed_in,
)

PRESENCE = """
from chatdesk.accounts.models import User
User.objects.filter(username={agent!r}).update(presence={status!r})
"""

FORGET_CONTACTS = """
from chatdesk.chats.models import Chat, Contact
for chat in Chat.objects.filter(contact__phone__in={phones!r}):
    chat.delete()
Contact.objects.filter(phone__in={phones!r}).delete()
"""

# Closed all around today, whatever the time zone says the date is.
CLOSE_THE_DESK = """
from datetime import timedelta
from chatdesk.core import clock
from chatdesk.routing.models import BusinessHours, DatedException
hours, _ = BusinessHours.objects.get_or_create(department=None)
today = clock.now().date()
for days in (-1, 0, 1):
    DatedException.objects.get_or_create(
        business_hours=hours, date=today + timedelta(days=days), defaults={"closed": True}
    )
"""

OPEN_THE_DESK = """
from chatdesk.routing.models import BusinessHours
BusinessHours.objects.filter(department=None).delete()
"""


@pytest.fixture
def forget(server: Server) -> Iterator[list[str]]:
    phones: list[str] = []
    yield phones
    if phones:
        server.chatdesk("shell", "-c", FORGET_CONTACTS.format(phones=phones))


@pytest.fixture
def on_duty(server: Server) -> Iterator[Callable[[str], None]]:
    """``on_duty("bob")``: bob chose 'available' (alice always has); offline again after."""
    changed: list[str] = []

    def make(agent: str) -> None:
        changed.append(agent)
        server.chatdesk("shell", "-c", PRESENCE.format(agent=agent, status="available"))

    server.chatdesk("shell", "-c", PRESENCE.format(agent="alice", status="available"))
    yield make
    for agent in changed:
        server.chatdesk("shell", "-c", PRESENCE.format(agent=agent, status="offline"))


def assign_with_dialog(supervisor: Page, row_name: str, agent: str) -> None:
    row = supervisor.locator(".sv-row").filter(has_text=row_name)
    # Half a second without a request: a live refresh of the lists has come and gone, so
    # the row clicked is not swapped out under the click (settling on htmx alone was not
    # enough: a refresh the socket triggers a moment later replaced it).
    supervisor.wait_for_load_state("networkidle")
    row.hover()
    row.get_by_role("button", name="Assign").click()
    dialog = supervisor.get_by_role("dialog")
    expect(dialog).to_be_visible()
    before = dialog.locator("form").element_handle()
    dialog.get_by_role("button", name="Refresh").click()
    before.wait_for_element_state("hidden")  # the refreshed form replaced it
    agents = dialog.get_by_label("Agent")
    expect(agents.locator("option", has_text=agent)).to_have_count(1)
    option = agents.locator("option", has_text=agent).first
    agents.select_option(value=option.get_attribute("value"))
    dialog.get_by_role("button", name="Assign", exact=True).click()
    expect(dialog).to_have_count(0)


def test_the_supervisor_watches_and_transfers_a_chat(
    new_page: Callable[..., Page], server: Server, forget: list[str], on_duty
):
    alice, bob = new_page(), new_page()
    open_signed_in(alice, "alice", "/agent/", Stream())
    on_duty("bob")
    open_signed_in(bob, "bob", "/agent/", Stream())
    supervisor = new_page()
    open_signed_in(supervisor, "sam", "/supervisor/", Stream())

    # A customer writes: the console shows it within two seconds, with no reload.
    customer = new_page()
    phone = customer_writes(customer, "Nomsa Dlamini", "Hello, my parcel never arrived.")
    forget.append(phone)
    listing = supervisor.get_by_role("region", name="Open chats")
    row = listing.locator(".chat-item").filter(has_text="Nomsa Dlamini")
    expect(row).to_contain_text("Hello, my parcel never arrived.", timeout=LIVE_DEADLINE_MS)
    holder = "Alice Agent" if "Alice Agent" in row.inner_text() else "Bob Agent"
    other, other_page, holder_page = (
        ("Bob Agent", bob, alice) if holder == "Alice Agent" else ("Alice Agent", alice, bob)
    )
    expect(holder_page.locator("main")).to_contain_text("Nomsa Dlamini", timeout=LIVE_DEADLINE_MS)

    # Selecting it marks the row and loads the panel beside the list.
    row.locator(".sv-open").click()
    expect(row.locator(".sv-open")).to_have_attribute("aria-current", "true")
    expect(supervisor).to_have_url(re.compile(r"chat=\d+"))
    expect(supervisor.locator("#chat-panel")).not_to_be_empty()

    # Filtering by the holder shows their summary card.
    supervisor.get_by_role("region", name="By agent").get_by_role(
        "link", name=re.compile(holder)
    ).click()
    expect(supervisor.get_by_role("region", name=holder)).to_contain_text("Open chats")
    supervisor.screenshot(path="/tmp/supervisor-agent-summary.png")

    # Transfer it with the dialog: both agents' pages follow.
    row = supervisor.locator(".sv-row").filter(has_text="Nomsa Dlamini")
    row.hover()
    row.get_by_role("button", name="Assign").click()
    dialog = supervisor.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Department")).to_be_visible()
    supervisor.screenshot(path=f"{DOCS}/assign-dialog.png")
    supervisor.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assign_with_dialog(supervisor, "Nomsa Dlamini", other)
    expect(supervisor.locator("#sv-status")).to_contain_text(f"Assigned the chat to {other}.")
    expect(other_page.locator("main")).to_contain_text("Nomsa Dlamini", timeout=LIVE_DEADLINE_MS)
    expect(holder_page.locator("main")).not_to_contain_text(
        "Nomsa Dlamini", timeout=LIVE_DEADLINE_MS
    )
    # The console's filter on the old holder now lists it no more; everyone's list moved.
    supervisor.get_by_role("link", name="Show every agent").click()
    moved = supervisor.locator(".sv-row").filter(has_text="Nomsa Dlamini")
    expect(moved).to_contain_text(other, timeout=LIVE_DEADLINE_MS)
    assert not_reloaded(supervisor) and not_reloaded(alice) and not_reloaded(bob)
    supervisor.screenshot(path="/tmp/supervisor-console.png", full_page=True)


def test_an_out_of_hours_chat_is_a_ticket_the_supervisor_assigns(
    new_page: Callable[..., Page], server: Server, forget: list[str], on_duty
):
    alice = new_page()
    open_signed_in(alice, "alice", "/agent/", Stream())
    supervisor = new_page()
    open_signed_in(supervisor, "sam", "/supervisor/", Stream())
    supervisor.get_by_role("navigation", name="Chat lists").get_by_role(
        "link", name=re.compile(r"^Tickets \d+$")
    ).click()
    expect(supervisor).to_have_url(re.compile(r"tab=tickets"))

    server.chatdesk("shell", "-c", CLOSE_THE_DESK)
    try:
        customer = new_page()
        phone = customer_writes(customer, "Kagiso Molefe", "Are you open on Sunday?")
        forget.append(phone)
    finally:
        server.chatdesk("shell", "-c", OPEN_THE_DESK)

    tickets = supervisor.get_by_role("region", name="Tickets")
    row = tickets.locator(".sv-row").filter(has_text="Kagiso Molefe")
    expect(row).to_contain_text("Ticket · unassigned", timeout=LIVE_DEADLINE_MS)
    mine = alice.get_by_role("region", name=re.compile(r"^My tickets"))
    expect(mine).not_to_contain_text("Kagiso Molefe")
    # Row actions show on keyboard focus too.
    row.locator(".sv-open").focus()
    expect(row.get_by_role("button", name="Close")).to_be_visible()
    supervisor.screenshot(path=f"{DOCS}/tickets.png")

    assign_with_dialog(supervisor, "Kagiso Molefe", "Alice Agent")
    expect(supervisor.locator("#sv-status")).to_contain_text("Assigned the ticket to Alice Agent.")
    expect(mine).to_contain_text("Kagiso Molefe", timeout=LIVE_DEADLINE_MS)
    expect(tickets.locator(".sv-row").filter(has_text="Kagiso Molefe")).to_have_count(0)
    assigned = supervisor.get_by_role("navigation", name="Ticket states").get_by_role(
        "link", name=re.compile(r"^Assigned")
    )
    assigned.click()
    expect(tickets.locator(".sv-row").filter(has_text="Kagiso Molefe")).to_contain_text(
        "Alice Agent"
    )
    assert not_reloaded(alice)


def test_the_console_stacks_on_a_phone(new_page: Callable[..., Page], server: Server):
    phone = new_page(width=390, height=844)
    open_signed_in(phone, "sam", "/supervisor/", Stream())
    row = phone.locator(".sv-row").first
    row.locator(".sv-open").click()
    panel = phone.get_by_role("region", name="Chat details")
    expect(panel).to_be_visible()
    expect(phone.get_by_role("region", name="Open chats")).to_be_hidden()
    phone.screenshot(path="/tmp/supervisor-phone-panel.png")
    phone.get_by_role("button", name="Back to the list").click()
    expect(phone.get_by_role("region", name="Open chats")).to_be_visible()
    phone.screenshot(path="/tmp/supervisor-phone.png", full_page=True)


def test_opening_a_chat_during_a_live_refresh_of_the_lists_is_not_lost(
    new_page: Callable[..., Page],
):
    supervisor = new_page()
    open_signed_in(supervisor, "sam", "/supervisor/", Stream())
    supervisor.wait_for_load_state("networkidle")
    row = (
        supervisor.get_by_role("region", name="Open chats")
        .locator(".sv-row")
        .filter(has_text="Carol Customer")
    )
    # A live refresh of the lists is on its way (held here until after the click).
    held: list[Route] = []
    supervisor.route("**/supervisor/lists/**", lambda route: held.append(route))
    supervisor.evaluate("document.body.dispatchEvent(new CustomEvent('desk:lists'))")
    supervisor.wait_for_function("document.querySelector('#supervisor-lists.htmx-request')")
    assert len(held) == 1

    row.locator(".sv-open").click()
    held[0].continue_()
    supervisor.unroute("**/supervisor/lists/**")

    expect(supervisor).to_have_url(re.compile(r"chat=\d+"))
    expect(supervisor.locator("#chat-panel")).to_contain_text("Carol Customer")
