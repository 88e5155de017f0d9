"""The customer simulator in Chromium: a customer picks a number and writes; an agent answers
through the REST API; the answer appears on the phone with no reload, and its ticks turn
"read" as the phone reports it — while the worker beside the server delivers it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.support.browser import Server

REPLY_DEADLINE_MS = 5_000
AT_THE_BOTTOM = """() => {
  const scroller = document.getElementById("sim-scroll");
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 4;
}"""

ON_DUTY = """
from datetime import timedelta
from chatdesk.accounts.models import Connection, User
from chatdesk.core import clock
agent = User.objects.get(username={agent!r})
agent.presence = "available"
agent.save()
# The agent's workspace tab, kept fresh for the length of the test.
Connection.objects.update_or_create(
    channel_name="browser-test.{agent}",
    defaults={{"user": agent, "opened_at": clock.now(),
              "last_seen_at": clock.now() + timedelta(hours=1)}},
)
"""

OFF_DUTY = """
from chatdesk.accounts.models import Connection
Connection.objects.filter(channel_name="browser-test.{agent}").delete()
"""

ROUTED_CHAT = """
from chatdesk.chats.models import Chat
chat = Chat.objects.get(contact__phone={phone!r}, status="open")
print(chat.pk, chat.agent.username if chat.agent else "-")
"""

FORGET_CONTACTS = """
from chatdesk.chats.models import Chat, Contact
for chat in Chat.objects.filter(contact__phone__in={phones!r}):
    chat.delete()
Contact.objects.filter(phone__in={phones!r}).delete()
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
def alice_on_duty(server: Server) -> Iterator[None]:
    """Alice is online and available, so routing gives her the customer's new chat."""
    server.chatdesk("shell", "-c", ON_DUTY.format(agent="alice"))
    yield
    server.chatdesk("shell", "-c", OFF_DUTY.format(agent="alice"))


def assign_chat(server: Server, phone: str, agent: str = "alice") -> int:
    """The contact's open chat, which routing gave to ``agent``."""
    out = server.chatdesk("shell", "-c", ROUTED_CHAT.format(phone=phone))
    chat_id, holder = out.strip().splitlines()[-1].split()
    assert holder == agent, f"routing gave the chat to {holder}, not {agent}"
    return int(chat_id)


def agent_token(server: Server, agent: str = "alice") -> str:
    return server.chatdesk("token", agent).strip()


def agent_replies(server: Server, chat_id: int, text: str, token: str) -> None:
    """The agent's reply through ``POST /api/v1/chats/{id}/messages`` with a bearer token."""
    response = httpx.post(
        f"{server.url}/api/v1/chats/{chat_id}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"


def statuses_seen_by_the_desk(server: Server, chat_id: int, agent: str = "alice") -> list[str]:
    token = server.chatdesk("token", agent).strip()
    response = httpx.get(
        f"{server.url}/api/v1/chats/{chat_id}/messages",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [m["status"] for m in response.json()["items"] if m["direction"] == "out"]


def choose_new_customer(page: Page, name: str) -> str:
    page.goto("/simulator/")
    expect(page.get_by_role("heading", name="Who are you?")).to_be_visible()
    page.get_by_role("button", name="New customer").click()
    phone = page.get_by_label("Phone number")
    expect(phone).to_have_value(re.compile(r"^\+2782\d{7}$"))
    expect(page.get_by_label("Your name")).to_be_focused()
    page.get_by_label("Your name").fill(name)
    number = phone.input_value()
    page.get_by_role("button", name="Start chatting").click()
    expect(page.get_by_role("group", name="Who you are")).to_contain_text(name)
    return number


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


def conversation(page: Page) -> Locator:
    return page.get_by_role("region", name="Conversation with Chat Desk")


def test_a_customer_writes_and_the_agents_reply_arrives_live_and_is_read(
    page: Page,
    server: Server,
    forget_afterwards: list[str],
    screenshot: Callable[[Page, str], None],
):
    phone = choose_new_customer(page, "Nomsa Dlamini")
    forget_afterwards.append(phone)
    expect(page.get_by_text(phone)).to_be_visible()
    expect(page.get_by_text("Say hello")).to_be_visible()

    # Enter sends; the message shows up at once and the composer is ready for the next.
    box = composer(page)
    box.fill("Hi! My order #1042 hasn't arrived yet. Could you check where it is?")
    box.press("Enter")
    mine = conversation(page).locator(".sim-bubble-mine")
    expect(mine.last).to_contain_text("My order #1042")
    expect(composer(page)).to_have_value("")
    expect(composer(page)).to_be_focused()

    # Shift+Enter is a new line inside the same message.
    composer(page).type("It was a blue parcel.")
    composer(page).press("Shift+Enter")
    composer(page).type("Sent last Monday.")
    composer(page).press("Enter")
    expect(mine).to_have_count(2)
    assert mine.last.locator(".sim-text").inner_text() == "It was a blue parcel.\nSent last Monday."

    # The agent answers through the API; the worker delivers it; the phone shows it within
    # seconds, with no reload, and reports it delivered, then read.
    chat_id = assign_chat(server, phone)
    page_loads: list[str] = []
    page.on("load", lambda _page: page_loads.append("load"))
    reply = "Hi Nomsa, this is Alice. Your parcel left our warehouse this morning."
    token = agent_token(server)  # a command of its own, before the clock starts
    started = time.monotonic()
    agent_replies(server, chat_id, reply, token)
    desk = conversation(page).locator(".sim-bubble-desk").filter(has_text=reply)
    expect(desk).to_be_visible(timeout=REPLY_DEADLINE_MS)
    assert time.monotonic() - started < REPLY_DEADLINE_MS / 1000 + 1
    expect(desk.get_by_role("img", name="Read")).to_be_visible(timeout=REPLY_DEADLINE_MS)
    assert page_loads == []
    assert statuses_seen_by_the_desk(server, chat_id) == ["read"]

    agent_replies(server, chat_id, "It should reach you tomorrow before 12:00.", token)
    second = conversation(page).locator(".sim-bubble-desk").filter(has_text="tomorrow")
    expect(second.get_by_role("img", name="Read")).to_be_visible(timeout=2 * REPLY_DEADLINE_MS)
    composer(page).fill("Perfect, thank you!")
    composer(page).press("Enter")
    expect(mine.last).to_contain_text("Perfect, thank you!")
    page.wait_for_function(AT_THE_BOTTOM)  # the conversation keeps the newest in view
    composer(page).blur()
    screenshot(page, "simulator")


def test_hostile_text_from_either_side_is_shown_as_text(
    new_page: Callable[..., Page], server: Server, forget_afterwards: list[str]
):
    page = new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    phone = choose_new_customer(page, "<b>Mallory</b>")
    forget_afterwards.append(phone)
    expect(page.get_by_role("group", name="Who you are")).to_contain_text("<b>Mallory</b>")

    composer(page).fill("<script>alert(1)</script>")
    composer(page).press("Enter")
    expect(conversation(page).get_by_text("<script>alert(1)</script>")).to_be_visible()
    agent_replies(
        server, assign_chat(server, phone), "<img src=x onerror=alert(1)>", agent_token(server)
    )
    expect(conversation(page).get_by_text("<img src=x onerror=alert(1)>")).to_be_visible(
        timeout=REPLY_DEADLINE_MS
    )
    page.wait_for_timeout(1_500)  # a few more polls: still nothing may run
    assert dialogs == []
    assert conversation(page).locator("script, img").count() == 0


def test_a_bad_number_is_explained_and_the_phone_fills_a_390px_screen(
    new_page: Callable[..., Page], forget_afterwards: list[str]
):
    page = new_page(width=390, height=844)
    page.goto("/simulator/")
    page.get_by_label("Phone number").fill("0821")
    page.get_by_role("button", name="Start chatting").click()
    expect(page.get_by_text("like +27821234567")).to_be_visible()
    expect(page.get_by_label("Phone number")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Phone number").fill("+27 82 555 0199")
    page.get_by_role("button", name="Start chatting").click()
    forget_afterwards.append("+27825550199")
    who = page.get_by_role("group", name="Who you are")
    expect(who).to_contain_text("+27825550199")
    expect(who.get_by_role("link", name="Switch customer")).to_be_visible()

    phone_box = page.locator(".phone").bounding_box()
    assert phone_box is not None and phone_box["width"] == 390
    send = page.get_by_role("button", name="Send")
    expect(send).to_be_in_viewport()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow == 0
    composer(page).fill("Hello from a small screen")
    send.click()
    expect(conversation(page).locator(".sim-bubble-mine")).to_contain_text(
        "Hello from a small screen"
    )
