"""The agent's and the supervisor's pages stay live in Chromium: a customer writes from the
simulator and the lists show it within two seconds, with no reload; when the page's
connection drops, what happened meanwhile is caught up on reconnecting (``?since=``), and
when too much was missed (``resync``) the lists are read again."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server
from tests.support.live_pages import (
    FORGET_CONTACTS,
    LIVE_DEADLINE_MS,
    Stream,
    customer_writes,
    not_reloaded,
    open_signed_in,
    writes_again,
)

SCREENSHOT_DIR = "/tmp"

ON_DUTY = """
from chatdesk.accounts.models import User
User.objects.filter(username={agent!r}).update(presence="available")
"""

# A chat made behind the desk's back: no service, so no event tells anyone.
SILENT_CHAT = """
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact
from chatdesk.core import clock
from chatdesk.providers.models import Channel
contact = Contact.objects.create(phone={phone!r}, name={name!r})
Chat.objects.create(
    channel=Channel.objects.get(kind="sandbox"), contact=contact,
    agent=User.objects.get(username={agent!r}), created_at=clock.now(),
    last_message_at=clock.now(),
)
"""


@pytest.fixture
def forget_afterwards(server: Server) -> Iterator[list[str]]:
    """Phones whose contacts and chats are removed after the test, so the seed desk's
    counts stay what the other browser tests expect."""
    phones: list[str] = []
    yield phones
    if phones:
        server.chatdesk("shell", "-c", FORGET_CONTACTS.format(phones=phones))


@pytest.fixture(autouse=True)
def alice_available(server: Server) -> None:
    """Alice chose 'available': with her page open she is online, and routing gives her
    the customers' new chats."""
    server.chatdesk("shell", "-c", ON_DUTY.format(agent="alice"))


def last_seq(stream: Stream, since: int) -> int:
    """The seq of the last event received, or ``since`` when none was."""
    return max([frame["seq"] for _, frame in stream.frames if "seq" in frame], default=since)


def go_offline(page: Page) -> None:
    page.context.set_offline(True)
    expect(page.locator("html")).to_have_attribute("data-live", "off")


def go_online(page: Page) -> None:
    page.context.set_offline(False)
    expect(page.locator("html")).to_have_attribute("data-live", "on")


def test_the_agents_list_updates_live_and_catches_up_after_a_drop(
    new_page: Callable[..., Page], server: Server, forget_afterwards: list[str]
):
    agent, stream = new_page(), Stream()
    open_signed_in(agent, "alice", "/agent/", stream)
    # The first connection starts where the page was read; each event moves the page on.
    rendered = stream.since(0)
    assert rendered is not None
    expect(agent.locator("body")).to_have_attribute(
        "data-live-seq", str(last_seq(stream, rendered))
    )

    # A new customer writes: their chat is routed to alice and shows, message and all.
    customer = new_page()
    phone = customer_writes(customer, "Zanele Khumalo", "Hi, is my refund through?")
    forget_afterwards.append(phone)
    live = agent.get_by_role("region", name="Live chats")
    item = live.locator(".chat-item").filter(has_text="Zanele Khumalo")
    expect(item).to_contain_text("Hi, is my refund through?", timeout=LIVE_DEADLINE_MS)
    expect(live.get_by_role("heading")).to_contain_text("Live chats")
    assert stream.received(0, "message.created"), "the message came over the live stream"

    # The connection drops; the customer writes again meanwhile.
    go_offline(agent)
    seen = int(agent.locator("body").get_attribute("data-live-seq") or "")
    assert seen > rendered
    writes_again(customer, "Order 1042, paid by card.")
    agent.wait_for_timeout(500)
    expect(item).not_to_contain_text("Order 1042")  # nothing arrives while offline

    # Back online: the page asks for everything after the last event it saw, and shows it.
    go_online(agent)
    reconnect = len(stream.sockets) - 1
    assert reconnect >= 1
    assert stream.since(reconnect) == seen
    expect(item).to_contain_text("Order 1042, paid by card.", timeout=LIVE_DEADLINE_MS)
    replayed = [
        frame
        for frame in stream.received(reconnect, "message.created")
        if frame["data"]["text"] == "Order 1042, paid by card."
    ]
    assert replayed and replayed[0]["seq"] > seen
    assert not_reloaded(agent)
    agent.screenshot(path=f"{SCREENSHOT_DIR}/live-agent.png")


def test_a_page_that_missed_too_much_reads_its_lists_again(
    new_page: Callable[..., Page], server: Server, forget_afterwards: list[str]
):
    agent, stream = new_page(), Stream()
    open_signed_in(agent, "alice", "/agent/", stream)
    live = agent.get_by_role("region", name="Live chats")

    # A chat appears with no event, and the page claims a place the server never reached:
    # on reconnecting the server says "resync", and the lists are read again.
    phone = "+27825559876"
    forget_afterwards.append(phone)
    server.chatdesk(
        "shell", "-c", SILENT_CHAT.format(phone=phone, name="Sipho Ndlovu", agent="alice")
    )
    agent.wait_for_timeout(500)
    expect(live).not_to_contain_text("Sipho Ndlovu")
    go_offline(agent)
    agent.evaluate("document.body.setAttribute('data-live-seq', '999999999')")
    go_online(agent)
    expect(live).to_contain_text("Sipho Ndlovu", timeout=LIVE_DEADLINE_MS)
    assert stream.received(len(stream.sockets) - 1, "resync")
    assert not_reloaded(agent)


def test_the_supervisor_sees_a_new_chat_arrive(
    new_page: Callable[..., Page], server: Server, forget_afterwards: list[str]
):
    # Alice is at work, so the new chat goes to her rather than becoming a ticket.
    agent = new_page()
    open_signed_in(agent, "alice", "/agent/", Stream())
    supervisor, stream = new_page(), Stream()
    open_signed_in(supervisor, "sam", "/supervisor/", stream)
    tabs = supervisor.get_by_role("navigation", name="Chat lists")
    chats_tab = tabs.get_by_role("link", name=re.compile(r"^Chats \d+$"))
    before = int(chats_tab.inner_text().split()[-1])

    customer = new_page()
    phone = customer_writes(customer, "Pieter van Wyk", "Good morning, I need a new SIM.")
    forget_afterwards.append(phone)
    listing = supervisor.get_by_role("region", name="Open chats")
    item = listing.locator(".chat-item").filter(has_text="Pieter van Wyk")
    expect(item).to_contain_text("Good morning, I need a new SIM.", timeout=LIVE_DEADLINE_MS)
    expect(item).to_contain_text("Alice Agent")
    expect(tabs.get_by_role("link", name=f"Chats {before + 1}")).to_have_attribute(
        "aria-current", "page"
    )
    expect(agent.get_by_role("region", name="Live chats")).to_contain_text("Pieter van Wyk")
    assert not_reloaded(supervisor) and not_reloaded(agent)
    supervisor.screenshot(path=f"{SCREENSHOT_DIR}/live-supervisor.png")
