"""A customer answers an agent's re-engagement on the simulator: the new chat appears in
that agent's list and its panel shows the earlier conversation, the follow-up marked,
above the reply (at 1366 and 390 px)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import SCREENSHOTS as DOCS
from tests.support.browser import Server
from tests.support.live_pages import Stream, customer_writes, open_signed_in, writes_again

CLOSE_AND_REENGAGE = """
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat
from chatdesk.chats.services.outbound import Reply
from chatdesk.flows.lifecycle import close_chat
from chatdesk.flows.outbound import send_message
alice = User.objects.get(username="alice")
chat = Chat.objects.get(contact__phone={phone!r}, status="open", kind="chat")
assert chat.agent_id == alice.pk, chat.agent_id
close_chat(chat_id=chat.pk, by=alice)
text = "Your parcel PX-1042 arrived. Deliver tomorrow?"
send_message(chat_id=chat.pk, reply=Reply(text=text), by=alice)
print(chat.pk)
"""

FORGET = """
from chatdesk.chats.models import Chat, Contact
Chat.objects.filter(contact__phone__in={phones!r}, continues__isnull=False).delete()
Chat.objects.filter(contact__phone__in={phones!r}).delete()
Contact.objects.filter(phone__in={phones!r}).delete()
"""


@pytest.fixture
def forget(server: Server) -> Iterator[list[str]]:
    phones: list[str] = []
    yield phones
    server.chatdesk("shell", "-c", FORGET.format(phones=phones))


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_the_reply_reaches_the_agent_who_re_engaged_with_the_earlier_conversation(
    new_page: Callable[..., Page], server: Server, forget: list[str], width: int, height: int
) -> None:
    agent = new_page(width=width, height=height)
    open_signed_in(agent, "alice", "/agent/", Stream())
    customer = new_page()
    name = f"Lerato Reply {width}"
    phone = customer_writes(customer, name, "Is my parcel there yet?")
    forget.append(phone)
    out = server.chatdesk("shell", "-c", CLOSE_AND_REENGAGE.format(phone=phone))
    earlier_id = int(out.strip().splitlines()[-1])
    phone_view = customer.get_by_role("region", name="Conversation with Chat Desk")
    expect(phone_view).to_contain_text("Deliver tomorrow?", timeout=10_000)

    writes_again(customer, "Yes please, after ten")
    row = agent.get_by_role("region", name="Live chats").get_by_role("link").filter(has_text=name)
    expect(row).to_be_visible(timeout=10_000)
    row.click()
    panel = agent.locator("#chat-panel")
    earlier = panel.locator(".cdp-earlier-conversation")
    expect(earlier).to_contain_text("Earlier conversation")
    expect(earlier).to_contain_text("answered a follow-up from Alice")
    expect(earlier).to_contain_text("Is my parcel there yet?")
    expect(earlier.locator(".cdp-msg-reengagement")).to_contain_text("Deliver tomorrow?")
    expect(earlier.get_by_role("link", name="Open that chat")).to_have_attribute(
        "href", f"/chats/{earlier_id}/"
    )
    expect(panel.locator(".cdp-transcript > .cdp-messages")).to_contain_text(
        "Yes please, after ten"
    )
    agent.screenshot(path=f"{DOCS}/reengagement-reply-{width}.png", full_page=False)
