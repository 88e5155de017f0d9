"""Re-engagement from the supervisor console's Closed tab: a template with variables,
previewed as it will read, reaches the customer's phone in the simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server
from tests.support.live_pages import Stream, customer_writes, open_signed_in

CLOSE_AND_ADD_TEMPLATE = """
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.providers.models import Template
from chatdesk.flows.lifecycle import close_chat
chat = Chat.objects.get(contact__phone={phone!r}, status="open", kind="chat")
close_chat(chat_id=chat.pk, by=User.objects.get(username="sam"))
Template.objects.create(
    channel=chat.channel, name="parcel_ready", language="en",
    body="Hi {{{{1}}}}, parcel {{{{2}}}} is ready for collection.", status="approved",
)
print(chat.pk)
"""

FORGET = """
from chatdesk.chats.models import Chat, Contact
from chatdesk.providers.models import Template
Chat.objects.filter(contact__phone__in={phones!r}).delete()
Contact.objects.filter(phone__in={phones!r}).delete()
Template.objects.filter(name="parcel_ready").delete()
"""


@pytest.fixture
def forget(server: Server) -> Iterator[list[str]]:
    phones: list[str] = []
    yield phones
    server.chatdesk("shell", "-c", FORGET.format(phones=phones))


def test_a_template_sent_from_closed_reaches_the_simulator(
    new_page: Callable[..., Page], server: Server, forget: list[str]
) -> None:
    agent = new_page()  # alice at her desk: the chat is served live, then closed
    open_signed_in(agent, "alice", "/agent/", Stream())
    customer = new_page()
    phone = customer_writes(customer, "Lerato Mokoena", "Is my parcel there yet?")
    forget.append(phone)
    out = server.chatdesk("shell", "-c", CLOSE_AND_ADD_TEMPLATE.format(phone=phone))
    chat_id = int(out.strip().splitlines()[-1])

    supervisor = new_page()
    open_signed_in(supervisor, "sam", "/supervisor/", Stream())
    supervisor.locator("#tab-closed").click()
    row = supervisor.locator(f".sv-row[data-chat-id='{chat_id}']")
    expect(row).to_contain_text("Lerato Mokoena")
    row.get_by_role("link").first.click()
    panel = supervisor.locator("#chat-panel")
    expect(panel).to_contain_text("Is my parcel there yet?")

    panel.get_by_role("button", name="Use a template").click()
    picker = panel.get_by_label("Template")
    expect(picker).to_be_visible()
    expect(panel.locator(".htmx-settling, .htmx-swapping")).to_have_count(0)  # htmx is on it
    picker.select_option(label="parcel_ready (en)")
    panel.get_by_label("Variable {{1}}").fill("Lerato")
    panel.get_by_label("Variable {{2}}").fill("<b>PX-1042</b>")
    expect(panel.locator(".cdp-preview-body")).to_have_text(
        "Hi Lerato, parcel <b>PX-1042</b> is ready for collection."
    )
    supervisor.screenshot(path=f"{DOCS}/reengage.png", full_page=True)
    panel.get_by_role("button", name="Send template").click()

    expected = "Hi Lerato, parcel <b>PX-1042</b> is ready for collection."
    expect(panel.locator(".cdp-msg-out").last).to_contain_text(expected)
    phone_view = customer.get_by_role("region", name="Conversation with Chat Desk")
    expect(phone_view).to_contain_text(expected, timeout=10_000)
    assert phone_view.locator("b").count() == 0  # the variable stays text on the phone too
