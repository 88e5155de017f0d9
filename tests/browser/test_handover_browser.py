"""What was written is shown, in Chromium at a desk's and a phone's width: alice transfers
a live chat to bob with a note and is told it went (a success, not an error); bob's bell
shows the transfer with the note, and the chat he opens from it shows the note at the
panel's head and on its timeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server
from tests.support.live_pages import (
    FORGET_CONTACTS,
    LIVE_DEADLINE_MS,
    Stream,
    not_reloaded,
    open_signed_in,
)

SCREENSHOTS = "/tmp"

PRESENCE = """
from chatdesk.accounts.models import User
User.objects.filter(username={agent!r}).update(presence={status!r})
"""

# A live chat of alice's, made quietly: the pages that load after it show it.
ALICES_CHAT = """
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact
from chatdesk.core import clock
from chatdesk.providers.models import Channel
contact = Contact.objects.create(phone={phone!r}, name={name!r})
channel = Channel.objects.get(kind="sandbox")
Chat.objects.create(
    channel=channel, contact=contact, kind="chat", department=channel.department,
    agent=User.objects.get(username="alice"),
    created_at=clock.now(), last_message_at=clock.now(), assigned_at=clock.now(),
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


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_a_transfer_with_a_note_is_a_success_for_alice_and_the_note_reaches_bob(
    new_page: Callable[..., Page], server: Server, forget: list[str], width: int, height: int
):
    phone = f"+2782555{width:04d}"
    name = f"Zanele Transfer {width}"
    note = "She wants the refund in cash; I promised a call back by five."
    forget.append(phone)
    server.chatdesk("shell", "-c", PRESENCE.format(agent="alice", status="available"))
    server.chatdesk("shell", "-c", ALICES_CHAT.format(phone=phone, name=name))
    server.chatdesk("shell", "-c", PRESENCE.format(agent="bob", status="available"))
    bob = new_page(width=width, height=height)
    open_signed_in(bob, "bob", "/agent/", Stream())  # online: a transfer may go to him
    alice = new_page(width=width, height=height)
    open_signed_in(alice, "alice", "/agent/", Stream())

    alice.get_by_role("region", name="Live chats").get_by_role("link").filter(has_text=name).click()
    expect(alice.locator("#chat-panel")).to_contain_text(name)
    alice.get_by_role("button", name="Transfer").click()
    dialog = alice.get_by_role("dialog")
    expect(dialog).to_be_visible()
    bobs_option = dialog.locator("#assign-agent option").filter(has_text="Bob Agent")
    dialog.get_by_label("Agent").select_option(bobs_option.get_attribute("value"))
    dialog.get_by_label("Note").fill(note)
    dialog.get_by_role("button", name="Assign").click()

    # Alice is told it went, as a success; no error anywhere.
    expect(alice.locator(".ws-flash-text")).to_have_text(
        "Transferred the chat to Bob Agent.", timeout=15_000
    )
    expect(dialog).to_have_count(0)
    left = alice.locator(".ws-chat-left")
    expect(left).to_have_text("You transferred this chat to Bob Agent.", timeout=LIVE_DEADLINE_MS)
    expect(alice.locator(".alert-error")).to_have_count(0)
    # Gone from her live chats (on a phone the list is behind the chat, so by its id).
    expect(alice.locator('section[aria-labelledby="live-title"]')).not_to_contain_text(name)
    alice.screenshot(path=f"{SCREENSHOTS}/handover-alice-{width}.png")
    assert not_reloaded(alice)

    # Bob's bell lights up live with the transfer and its note.
    bell = bob.locator("#cdp-bell-button")
    expect(bell).to_have_attribute(
        "aria-label", "Notifications, 1 unread", timeout=LIVE_DEADLINE_MS
    )
    bell.click()
    item = bob.locator(".cdp-bell-item").filter(has_text=name)
    expect(item).to_contain_text(f"The chat with {name} was transferred to you by Alice Agent")
    expect(item).to_contain_text(note)
    box = bob.locator("#cdp-bell-menu").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    bob.screenshot(path=f"{SCREENSHOTS}/handover-bob-bell-{width}.png")

    # Opened from the bell, the chat shows the note at its head and on its timeline.
    item.get_by_role("link").click()
    panel = bob.locator("#chat-panel")
    expect(panel).to_contain_text(name)
    head = panel.locator(".cdp-handover-note")
    expect(head).to_contain_text("Note from Alice Agent:")
    expect(head).to_contain_text(note)
    bob.screenshot(path=f"{SCREENSHOTS}/handover-bob-panel-{width}.png")
    panel.get_by_role("tab", name="Timeline").click()
    timeline_note = panel.locator(".cdp-event-transferred .cdp-event-note")
    expect(timeline_note).to_have_text(note)
    timeline_note.scroll_into_view_if_needed()
    bob.screenshot(path=f"{SCREENSHOTS}/handover-bob-timeline-{width}.png")
