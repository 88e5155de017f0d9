"""The agent workspace in Chromium, with several people at once (separate browser
contexts): a customer's message reaches alice's lists live with an unread badge that
clears when she opens the chat; alice accepts a ticket that bob then no longer sees; the
presence switch; Transfer opens the assign dialog; on a phone, the lists or the chat."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server, log_in
from tests.support.live_pages import (
    FORGET_CONTACTS,
    LIVE_DEADLINE_MS,
    Stream,
    customer_writes,
    not_reloaded,
    open_signed_in,
    writes_again,
)

SCREENSHOTS = "/tmp"

PRESENCE = """
from chatdesk.accounts.models import User
User.objects.filter(username={agent!r}).update(presence={status!r})
"""

# An unassigned ticket in Sales, made quietly: the pages that load after it show it.
SALES_TICKET = """
from chatdesk.chats.models import Chat, Contact
from chatdesk.core import clock
from chatdesk.providers.models import Channel
from chatdesk.routing.models import Department
contact = Contact.objects.create(phone={phone!r}, name={name!r})
Chat.objects.create(
    channel=Channel.objects.get(kind="sandbox"), contact=contact, kind="ticket",
    ticket_state="unassigned", department=Department.objects.get(name="Sales"),
    created_at=clock.now(), last_message_at=clock.now(),
)
"""


@pytest.fixture
def forget(server: Server) -> Iterator[list[str]]:
    """Phones whose contacts and chats go after the test; alice ends available and bob
    offline, as the seed desk has them."""
    phones: list[str] = []
    yield phones
    if phones:
        server.chatdesk("shell", "-c", FORGET_CONTACTS.format(phones=phones))
    server.chatdesk("shell", "-c", PRESENCE.format(agent="alice", status="available"))
    server.chatdesk("shell", "-c", PRESENCE.format(agent="bob", status="offline"))


@pytest.fixture(autouse=True)
def alice_on_duty(server: Server) -> None:
    server.chatdesk("shell", "-c", PRESENCE.format(agent="alice", status="available"))


def test_a_new_message_arrives_live_with_a_badge_that_clears_on_opening(
    new_page: Callable[..., Page], forget: list[str]
):
    alice = new_page()
    open_signed_in(alice, "alice", "/agent/", Stream())
    live = alice.get_by_role("region", name="Live chats")

    customer = new_page()
    phone = customer_writes(customer, "Naledi Dlamini", "Hello, my router keeps dropping.")
    forget.append(phone)
    row = live.locator(".chat-item").filter(has_text="Naledi Dlamini")
    expect(row).to_contain_text("Hello, my router keeps dropping.", timeout=LIVE_DEADLINE_MS)
    badge = row.locator(".ws-unread")
    expect(badge).to_have_text(re.compile(r"^1\s*unread$"))
    expect(row).to_contain_text(re.compile(r"waiting (under 1|\d+) min"))
    assert not_reloaded(alice)
    alice.screenshot(path=f"{SCREENSHOTS}/agent-new-message.png")

    # She opens it: the row is marked, the panel loads, the badge goes.
    link = row.get_by_role("link")
    link.click()
    expect(link).to_have_attribute("aria-current", "true")
    expect(alice).to_have_url(re.compile(r"/agent/chats/\d+/$"))
    panel = alice.locator("#chat-panel")
    expect(panel).to_contain_text("Naledi Dlamini")
    expect(badge).to_have_count(0)

    # A message to the chat she has open is read as it comes: no badge.
    writes_again(customer, "It happens every evening.")
    expect(row).to_contain_text("It happens every evening.", timeout=LIVE_DEADLINE_MS)
    alice.wait_for_timeout(500)
    expect(badge).to_have_count(0)
    expect(link).to_have_attribute("aria-current", "true")  # the refresh kept the selection
    alice.screenshot(path=f"{DOCS}/agent-chat.png")

    # Read on the server too: reading the page again shows no badge.
    alice.reload()
    expect(row).to_be_visible()
    expect(badge).to_have_count(0)
    expect(alice.locator("#chat-panel")).to_contain_text("Naledi Dlamini")


def test_alice_accepts_a_ticket_and_bob_sees_it_go(
    new_page: Callable[..., Page], server: Server, forget: list[str]
):
    phone = "+27825551234"
    forget.append(phone)
    server.chatdesk("shell", "-c", SALES_TICKET.format(phone=phone, name="Ayanda Zulu"))
    bob = new_page()
    open_signed_in(bob, "bob", "/agent/", Stream())
    alice = new_page()
    open_signed_in(alice, "alice", "/agent/", Stream())

    queue = alice.get_by_role("region", name="Unassigned tickets")
    expect(queue).to_contain_text("Ayanda Zulu")
    expect(queue.get_by_label("How many")).to_have_value("5")
    bobs_queue = bob.get_by_role("region", name="Unassigned tickets")
    expect(bobs_queue).to_contain_text("Ayanda Zulu")
    alice.screenshot(path=f"{SCREENSHOTS}/agent-tickets.png")

    queue.get_by_role("button", name="Accept the ticket of Ayanda Zulu").click()
    expect(alice.get_by_role("status").filter(has_text="You accepted")).to_contain_text(
        "You accepted the ticket of Ayanda Zulu."
    )
    expect(alice.get_by_role("region", name="My tickets")).to_contain_text("Ayanda Zulu")
    expect(queue).not_to_contain_text("Ayanda Zulu")
    # Bob's workspace drops it without a reload.
    expect(bobs_queue).not_to_contain_text("Ayanda Zulu", timeout=LIVE_DEADLINE_MS)
    assert not_reloaded(bob) and not_reloaded(alice)

    # Bob's stale form for the same ticket is refused with a sentence.
    ticket_id = (
        alice.get_by_role("region", name="My tickets")
        .get_by_role("link")
        .filter(has_text="Ayanda Zulu")
        .get_attribute("data-chat-id")
    )
    answer = bob.request.post(
        "/agent/tickets/accept/",
        form={"chat_id": ticket_id or ""},
        headers={
            # The page's one CSRF source: hx-headers on <body>.
            "X-CSRFToken": json.loads(bob.locator("body").get_attribute("hx-headers") or "{}")[
                "X-CSRFToken"
            ],
            "HX-Request": "true",
        },
    )
    assert answer.status == 200
    assert 'role="alert">No chat with that id.<' in answer.text()


SET_AWAY = """
from chatdesk.accounts.models import User
from chatdesk.flows.presence import set_presence
set_presence(user=User.objects.get(username="alice"), status="away")
"""


def test_the_presence_switch(
    new_page: Callable[..., Page], server: Server, server_url: str, forget: list[str]
):
    alice = new_page()
    open_signed_in(alice, "alice", "/agent/", Stream())
    switch = alice.get_by_role("group", name="Presence")
    available = switch.get_by_role("button", name="Available")
    away = switch.get_by_role("button", name="Away")
    expect(available).to_have_attribute("aria-pressed", "true")
    expect(alice.locator(".ws-online")).to_contain_text("Connected · new chats come to you")

    away.click()
    expect(away).to_have_attribute("aria-pressed", "true")
    expect(alice.locator(".ws-online")).to_contain_text("Connected · away, no new chats")
    answer = alice.request.get(server_url + "/api/v1/me/presence").json()
    assert answer == {"status": "away", "online": True}
    alice.screenshot(path=f"{SCREENSHOTS}/agent-away.png")

    # Keyboard: Tab to Available, Enter.
    away.focus()
    alice.keyboard.press("Shift+Tab")
    expect(available).to_be_focused()
    alice.keyboard.press("Enter")
    expect(available).to_have_attribute("aria-pressed", "true")
    assert alice.request.get(server_url + "/api/v1/me/presence").json()["status"] == "available"

    # Changed elsewhere (another tab, an integration): the switch follows live.
    server.chatdesk("shell", "-c", SET_AWAY)
    expect(away).to_have_attribute("aria-pressed", "true", timeout=LIVE_DEADLINE_MS)
    assert not_reloaded(alice)


def test_transfer_opens_the_assign_dialog(new_page: Callable[..., Page], forget: list[str]):
    alice = new_page()
    open_signed_in(alice, "alice", "/agent/", Stream())
    live = alice.get_by_role("region", name="Live chats")
    live.get_by_role("link").filter(has_text="Carol Customer").click()
    transfer = alice.get_by_role("button", name="Transfer")
    transfer.click()
    dialog = alice.get_by_role("dialog")
    expect(dialog).to_be_visible()
    alice.screenshot(path=f"{SCREENSHOTS}/agent-transfer.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(transfer).to_be_focused()


def test_on_a_phone_the_lists_or_the_chat(new_page: Callable[..., Page], forget: list[str]):
    alice = new_page(width=390, height=800)
    log_in(alice, "alice")
    expect(alice.locator("html")).to_have_attribute("data-live", "on")
    live = alice.get_by_role("region", name="Live chats")
    expect(live).to_contain_text("Carol Customer")
    expect(alice.get_by_role("region", name="Open chat")).to_be_hidden()
    width = alice.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    alice.screenshot(path=f"{SCREENSHOTS}/agent-phone-lists.png", full_page=True)

    link = live.get_by_role("link").filter(has_text="Thabo Mokoena")
    link.click()
    chat = alice.get_by_role("region", name="Open chat")
    expect(chat).to_be_visible()
    expect(live).to_be_hidden()
    expect(alice.locator("#chat-panel")).to_contain_text("Thabo Mokoena")
    alice.screenshot(path=f"{DOCS}/agent-phone.png")

    chat.get_by_role("button", name="My lists").click()
    expect(live).to_be_visible()
    expect(chat).to_be_hidden()
    expect(link).to_be_focused()
    expect(alice).to_have_url(re.compile(r"/agent/$"))
