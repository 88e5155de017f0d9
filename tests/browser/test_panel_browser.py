"""The chat panel in Chromium, on its own page (``/chats/<id>/``): hostile customer text
stays text, a new message shows live, Enter sends, the template picker previews what it
will send, and a supervisor's @-mention rings the agent's bell live."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server, log_in

LIVE_DEADLINE_MS = 2_000
SHOTS = "/tmp"
HOSTILE_NAME = "<img src=x onerror=alert('name')>"
HOSTILE_TEXT = "<script>alert('text')</script><img src=x onerror=alert('img')>"

# A chat of alice's made directly (no routing), with a hostile contact name and message.
MAKE_CHAT = """
import json
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact, Message
from chatdesk.core import clock
from chatdesk.providers.models import Channel
contact = Contact.objects.create(phone={phone!r}, name={name!r})
now = clock.now()
channel = Channel.objects.get(kind={kind!r})
chat = Chat.objects.create(
    channel=channel, contact=contact, agent=User.objects.get(username="alice"),
    department=channel.department, created_at=now, last_message_at=now,
    **json.loads({extra!r}),
)
for text in json.loads({texts!r}):
    Message.objects.create(
        chat=chat, channel=channel, direction="in", text=text, created_at=now
    )
print(chat.pk)
"""

# The contact writes again, through the inbound service (so the desk publishes it).
CONTACT_WRITES = """
from chatdesk.flows.inbound import receive_message
from chatdesk.core import clock
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel
receive_message(
    channel=Channel.objects.get(kind="sandbox"),
    inbound=InboundMessage(
        provider_message_id={ref!r}, from_phone={phone!r}, timestamp=clock.now(),
        content_type="text", text={text!r},
    ),
)
"""

MAKE_TEMPLATE = """
from chatdesk.providers.models import Channel, Template
Template.objects.create(
    channel=Channel.objects.get(kind="whatsapp"), name="order_update",
    body="Hi {{1}}, your order {{2}} is on its way.", status="approved",
)
"""

CLEAN_UP = """
from chatdesk.chats.models import Chat, Contact
from chatdesk.providers.models import Template
Chat.objects.filter(contact__phone__in={phones!r}).delete()
Contact.objects.filter(phone__in={phones!r}).delete()
Template.objects.filter(name="order_update").delete()
"""


@pytest.fixture
def desk(server: Server) -> Iterator[Callable[..., int]]:
    """``desk(phone, name, texts)``: a chat of alice's; removed again after the test."""
    phones: list[str] = []

    def make(
        phone: str,
        name: str,
        texts: list[str],
        *,
        kind: str = "sandbox",
        extra: dict[str, object] | None = None,
    ) -> int:
        phones.append(phone)
        out = server.chatdesk(
            "shell",
            "-c",
            MAKE_CHAT.format(
                phone=phone,
                name=name,
                kind=kind,
                texts=json.dumps(texts),
                extra=json.dumps(extra or {}),
            ),
        )
        return int(out.strip().splitlines()[-1])

    yield make
    server.chatdesk("shell", "-c", CLEAN_UP.format(phones=phones))


def watch_dialogs(page: Page) -> list[str]:
    seen: list[str] = []

    def opened(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    return seen


def open_chat(page: Page, username: str, chat_id: int) -> None:
    log_in(page, username)
    page.wait_for_url(re.compile(r"/(agent|supervisor|setup)/"))
    page.goto(f"/chats/{chat_id}/")
    expect(page.locator("html")).to_have_attribute("data-live", "on")
    expect(page.locator("#cdp-bell")).not_to_have_attribute("data-bell-pending", "")


def transcript(page: Page) -> Locator:
    return page.get_by_role("log", name="Transcript")


def test_hostile_text_stays_text_new_messages_arrive_live_and_enter_sends(
    new_page: Callable[..., Page], server: Server, desk: Callable[..., int]
):
    phone = "+27830000101"
    chat_id = desk(phone, HOSTILE_NAME, [HOSTILE_TEXT])
    page = new_page()
    dialogs = watch_dialogs(page)
    open_chat(page, "alice", chat_id)

    # The name and the message are shown as the characters they are, and nothing ran.
    expect(page.get_by_role("heading", name=HOSTILE_NAME)).to_be_visible()
    expect(transcript(page)).to_contain_text(HOSTILE_TEXT)
    assert page.locator(".cdp script, .cdp img").count() == 0
    assert page.evaluate("typeof window.__hacked") == "undefined"

    # The contact writes again: it shows within two seconds, no reload.
    page.evaluate("window.panelMarker = 'same page'")
    server.chatdesk(
        "shell",
        "-c",
        CONTACT_WRITES.format(ref="panel-live-1", phone=phone, text="Is anyone there?"),
    )
    expect(transcript(page).locator(".cdp-msg-in").last).to_contain_text(
        "Is anyone there?", timeout=LIVE_DEADLINE_MS
    )
    assert page.evaluate("window.panelMarker") == "same page"

    # Enter sends; Shift+Enter is a new line.
    box = page.get_by_role("textbox", name="Message")
    box.click()
    box.type("Hello! Let me check")
    box.press("Shift+Enter")
    box.type("your order.")
    assert box.input_value() == "Hello! Let me check\nyour order."
    box.press("Enter")
    mine = transcript(page).locator(".cdp-msg-out").last
    expect(mine).to_contain_text("Hello! Let me check")
    expect(mine).to_contain_text("your order.")
    expect(box).to_have_value("")
    # The worker sends it through the sandbox: its tick moves on live.
    expect(mine.locator(".cdp-tick")).not_to_have_class(re.compile("cdp-tick-queued"), timeout=8000)
    page.screenshot(path=f"{SHOTS}/panel-agent.png")

    # Keyboard: the arrow keys move between the tabs.
    page.get_by_role("tab", name="Transcript").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name=re.compile("^Comments"))).to_be_focused()
    expect(page.get_by_role("tab", name=re.compile("^Comments"))).to_have_attribute(
        "aria-selected", "true"
    )
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Contact")).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Contact")).to_contain_text(phone)

    small = new_page(width=390, height=844)
    watch_dialogs(small)
    open_chat(small, "alice", chat_id)
    expect(transcript(small)).to_contain_text("Is anyone there?")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"
    small.screenshot(path=f"{SHOTS}/panel-mobile.png", full_page=True)
    assert dialogs == []


def test_a_supervisor_mention_rings_the_agents_bell_live(
    new_page: Callable[..., Page], server: Server, desk: Callable[..., int]
):
    chat_id = desk("+27830000102", "Naledi Khumalo", ["My card was charged twice."])
    agent, supervisor = new_page(), new_page()
    open_chat(agent, "alice", chat_id)
    open_chat(supervisor, "sam", chat_id)
    count = agent.locator("#cdp-bell [data-bell-count]")
    before = int(count.text_content() or "0")

    # The supervisor has no composer on alice's live chat, only the note.
    expect(supervisor.get_by_text("Supervisors cannot take part in a live chat")).to_be_visible()
    assert supervisor.get_by_role("textbox", name="Message").count() == 0

    # "Go to comments" opens the Comments tab with the focus in the comment box.
    supervisor.get_by_role("button", name="Go to comments").click()
    box = supervisor.get_by_role("combobox", name="Add a comment")
    expect(box).to_be_focused()
    box.type("@ali")
    options = supervisor.get_by_role("listbox", name="People to mention").get_by_role("option")
    expect(options.first).to_contain_text("@alice")
    expect(box).to_have_attribute("aria-expanded", "true")
    supervisor.screenshot(path=f"{SHOTS}/panel-mention.png")
    box.press("Enter")
    expect(box).to_have_value("@alice ")
    box.type("please refund the second charge.")
    supervisor.get_by_role("button", name="Add comment").click()
    expect(supervisor.locator(".cdp-comment").last).to_contain_text("please refund")

    # Alice's bell goes up, and her panel shows the comment, within two seconds.
    expect(count).to_have_text(str(before + 1), timeout=LIVE_DEADLINE_MS)
    expect(count).to_be_visible()
    agent.get_by_role("tab", name=re.compile("^Comments")).click()
    expect(agent.locator(".cdp-comment").last).to_contain_text(
        "please refund", timeout=LIVE_DEADLINE_MS
    )
    expect(agent.locator(".cdp-comment mark").last).to_have_text("@alice")
    expect(agent.get_by_role("tab", name=re.compile("^Comments"))).to_have_text(
        re.compile(r"1\s*$")
    )

    agent.get_by_role("button", name=re.compile("^Notifications")).click()
    menu = agent.locator("#cdp-bell-menu")
    expect(menu).to_be_visible()
    item = menu.get_by_role("link").filter(has_text="Sam Supervisor mentioned you")
    expect(item.first).to_have_attribute("href", f"/agent/?chat={chat_id}")
    agent.screenshot(path=f"{DOCS}/bell.png")
    menu.get_by_role("button", name="Mark all read").click()
    expect(count).to_be_hidden()
    expect(agent.get_by_role("button", name="Notifications")).to_have_attribute(
        "aria-expanded", "true"
    )
    agent.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    supervisor.get_by_role("tab", name="Transcript").click()
    supervisor.screenshot(path=f"{DOCS}/supervisor-chat.png")


def test_outside_the_window_a_template_is_previewed_as_text(
    new_page: Callable[..., Page], server: Server, desk: Callable[..., int]
):
    server.chatdesk("shell", "-c", MAKE_TEMPLATE)
    chat_id = desk(
        "+27830000103",
        "Pieter van Wyk",
        ["Thanks, bye"],
        kind="whatsapp",
        extra={"status": "closed", "closed_at": "2026-01-01T10:00:00+00:00", "closed_by": "agent"},
    )
    page = new_page()
    dialogs = watch_dialogs(page)
    open_chat(page, "alice", chat_id)
    expect(page.get_by_text("Window closed")).to_be_visible()
    page.get_by_label("Template").select_option(label="order_update (en_US)")
    first = page.get_by_label("Variable {{1}}")
    expect(first).to_be_visible()
    expect(page.get_by_label("Variable {{2}}")).to_be_visible()
    first.fill("<b>Pieter</b>")
    page.get_by_label("Variable {{2}}").fill("1042")
    preview = page.locator(".cdp-preview-body")
    expect(preview).to_have_text("Hi <b>Pieter</b>, your order 1042 is on its way.")
    assert preview.locator("b").count() == 0
    page.screenshot(path=f"{SHOTS}/panel-template.png")
    page.get_by_role("button", name="Send template").click()
    expect(transcript(page).locator(".cdp-msg-out").last).to_contain_text(
        "Hi <b>Pieter</b>, your order 1042 is on its way."
    )
    assert dialogs == []


def test_a_draft_survives_a_refresh_of_the_whole_panel(
    new_page: Callable[..., Page], server: Server, desk: Callable[..., int]
):
    """A change of owner or state reloads the whole panel (desk:chat-ID, as live.js names
    it); what the agent was typing, and where, stays (hx-preserve); a sent reply empties
    the box."""
    chat_id = desk("+27830000103", "Sipho Ndlovu", ["Where is my parcel?"])
    page = new_page()
    open_chat(page, "alice", chat_id)
    box = page.get_by_role("textbox", name="Message")
    box.click()
    box.type("Let me look it up")
    note = page.get_by_role("combobox", name="Add a comment")
    page.evaluate("document.querySelector('.cdp').dataset.before = 'yes'")
    page.evaluate(f"document.body.dispatchEvent(new CustomEvent('desk:chat-{chat_id}'))")
    expect(page.locator(".cdp[data-before]")).to_have_count(0, timeout=LIVE_DEADLINE_MS)
    expect(page.locator(".cdp")).to_have_count(1)
    expect(box).to_have_value("Let me look it up")
    expect(box).to_be_focused()
    box.press("Enter")
    expect(transcript(page).locator(".cdp-msg-out").last).to_contain_text("Let me look it up")
    expect(box).to_have_value("")
    # A comment draft too, in its hidden tab.
    page.get_by_role("tab", name=re.compile("^Comments")).click()
    note.fill("Parcel delayed at the depot")
    page.evaluate(f"document.body.dispatchEvent(new CustomEvent('desk:chat-{chat_id}'))")
    expect(page.locator(".cdp[data-before]")).to_have_count(0)
    expect(page.get_by_role("tab", name=re.compile("^Comments"))).to_have_attribute(
        "aria-selected", "true", timeout=LIVE_DEADLINE_MS
    )
    expect(note).to_have_value("Parcel delayed at the depot")


ADD_COMMENT = """
from chatdesk.accounts.models import User
from chatdesk.chats.services.comments import add_comment
add_comment(chat_id={chat_id}, body={body!r}, by=User.objects.get(username="sam"))
"""

NOTIFICATION_READ = """
from chatdesk.chats.models import Notification
print(Notification.objects.filter(chat_id={chat_id}, read_at__isnull=True).count())
"""


def test_the_open_bell_stays_open_as_it_reloads_and_a_notification_leads_to_its_chat(
    new_page: Callable[..., Page], server: Server, desk: Callable[..., int]
):
    chat_id = desk("+27830000104", "Zanele Mthembu", ["Can I change my address?"])
    page = new_page()
    open_chat(page, "alice", chat_id)
    page.get_by_role("button", name=re.compile("^Notifications")).click()
    menu = page.locator("#cdp-bell-menu")
    expect(menu).to_be_visible()

    # A mention arrives while the menu is open: the bell reloads (htmx) and stays open.
    server.chatdesk("shell", "-c", ADD_COMMENT.format(chat_id=chat_id, body="@alice the address"))
    item = menu.get_by_role("link").filter(has_text="Sam Supervisor mentioned you")
    expect(item).to_have_count(1, timeout=LIVE_DEADLINE_MS)
    expect(menu).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Notifications"))).to_have_attribute(
        "aria-expanded", "true"
    )

    # Choosing it marks it read (an hx-post) and the answer takes the page to the chat.
    item.click()
    page.wait_for_url(re.compile(rf"/agent/\?chat={chat_id}$"))
    unread = server.chatdesk("shell", "-c", NOTIFICATION_READ.format(chat_id=chat_id))
    assert unread.strip().splitlines()[-1] == "0"
