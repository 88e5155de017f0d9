"""Honest controls in Chromium, at 1366 px and 390 px: a disabled Send looks disabled and
says why, a failed message's Retry sends it again, transcripts link addresses, a banner
says when the live connection is lost and when it is back, a draft survives a session that
ended and signing in again returns to the chat, and the 404 page is the desk's."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Server, log_in
from tests.support.personas import PASSWORD

SHOTS = "/tmp"
SIZES = [pytest.param(1366, 768, id="1366"), pytest.param(390, 844, id="390")]

# A chat of alice's on the sandbox, with messages given as [direction, text, status].
MAKE_CHAT = """
import json
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact, ContactOptOut, Message
from chatdesk.core import clock
from chatdesk.providers.models import Channel
alice = User.objects.get(username="alice")
contact = Contact.objects.create(phone={phone!r}, name={name!r})
now = clock.now()
channel = Channel.objects.get(kind="sandbox")
chat = Chat.objects.create(
    channel=channel, contact=contact, agent=alice, department=channel.department,
    created_at=now, last_message_at=now,
)
for direction, text, status in json.loads({messages!r}):
    attempts = 3 if status == "failed" else 0
    Message.objects.create(
        chat=chat, channel=channel, direction=direction, text=text, created_at=now,
        status=status, author=alice if direction == "out" else None,
        attempts=attempts,
        error_reason="Gave up after 3 attempts: the provider is down." if attempts else "",
    )
if {opted_out!r}:
    ContactOptOut.objects.create(contact=contact, channel=channel, keyword="STOP", created_at=now)
print(chat.pk)
"""

FORGET = """
from chatdesk.chats.models import Chat, Contact
Chat.objects.filter(contact__phone__in={phones!r}).delete()
Contact.objects.filter(phone__in={phones!r}).delete()
"""

END_SESSION = """
from django.contrib.sessions.models import Session
Session.objects.filter(session_key={key!r}).delete()
"""


@pytest.fixture
def desk(server: Server) -> Iterator[Callable[..., int]]:
    phones: list[str] = []

    def make(phone: str, messages: list[list[str | None]], *, opted_out: bool = False) -> int:
        phones.append(phone)
        out = server.chatdesk(
            "shell",
            "-c",
            MAKE_CHAT.format(
                phone=phone,
                name="Nomsa Khumalo",
                messages=json.dumps(messages),
                opted_out=opted_out,
            ),
        )
        return int(out.strip().splitlines()[-1])

    yield make
    server.chatdesk("shell", "-c", FORGET.format(phones=phones))


def signed_in_on(page: Page, username: str, path: str) -> None:
    log_in(page, username)
    page.wait_for_url(re.compile(r"/(agent|supervisor|setup)/"))
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("data-live", "on")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_send_for_an_opted_out_contact_looks_disabled_and_says_why(
    new_page: Callable[..., Page], desk: Callable[..., int], width: int, height: int
):
    chat_id = desk(f"+2783100{width}", [["in", "STOP", None]], opted_out=True)
    page = new_page(width=width, height=height)
    signed_in_on(page, "alice", f"/chats/{chat_id}/")
    send = page.get_by_role("button", name="Send", exact=True)
    expect(send).to_be_disabled()
    style = send.evaluate(
        "b => { const s = getComputedStyle(b); return [s.cursor, s.backgroundColor, s.color]; }"
    )
    assert style == ["not-allowed", "rgb(228, 231, 235)", "rgb(91, 101, 115)"]
    reason = page.get_by_text("Sending is off: the contact opted out.")
    expect(reason).to_be_visible()
    box = send.bounding_box()
    said = reason.bounding_box()
    assert box is not None and said is not None
    assert 0 <= said["y"] - (box["y"] + box["height"]) < 40  # right under the button
    send.scroll_into_view_if_needed()
    page.screenshot(path=f"{SHOTS}/controls-send-disabled-{width}.png")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_failed_message_is_retried_and_addresses_are_links(
    new_page: Callable[..., Page], desk: Callable[..., int], width: int, height: int
):
    chat_id = desk(
        f"+2783200{width}",
        [
            ["in", "My tracking page https://example.com/track?id=7 says nothing", None],
            ["in", "شكرا لكم", None],
            ["out", "Your parcel left the depot", "failed"],
        ],
    )
    page = new_page(width=width, height=height)
    signed_in_on(page, "alice", f"/chats/{chat_id}/")
    log = page.get_by_role("log", name="Transcript")
    link = log.get_by_role("link", name="https://example.com/track?id=7")
    expect(link).to_have_attribute("href", "https://example.com/track?id=7")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    texts = log.locator(".cdp-msg-text")
    expect(texts).to_have_count(3)
    assert texts.evaluate_all("ps => ps.map(p => p.dir)") == ["auto", "auto", "auto"]
    failed = log.locator(".cdp-msg-failed")
    expect(failed).to_contain_text("Not delivered: Gave up after 3 attempts")
    retry = failed.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    page.screenshot(path=f"{SHOTS}/controls-retry-{width}.png")
    retry.dblclick()
    # The worker sends it through the sandbox: the same message, sent, no Retry left.
    expect(log.locator(".cdp-msg-out")).to_have_count(1)
    expect(log.locator(".cdp-msg-out .cdp-tick-sent")).to_have_count(1, timeout=10_000)
    expect(log.get_by_role("button", name="Retry")).to_have_count(0)
    expect(page.locator(".cdp-retry-error")).to_have_count(0)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_banner_says_when_live_updates_are_lost_and_when_they_are_back(
    new_page: Callable[..., Page], width: int, height: int
):
    page = new_page(width=width, height=height)
    signed_in_on(page, "alice", "/agent/")
    banner = page.get_by_role("status").filter(has_text="Live updates")
    expect(banner).to_have_count(0)
    page.context.set_offline(True)
    expect(banner).to_have_text("Live updates lost — reconnecting…")
    expect(banner).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-live", "off")
    page.screenshot(path=f"{SHOTS}/controls-live-lost-{width}.png")
    page.context.set_offline(False)
    expect(banner).to_have_text("Live updates are back", timeout=10_000)
    expect(page.locator("html")).to_have_attribute("data-live", "on")
    page.screenshot(path=f"{SHOTS}/controls-live-back-{width}.png")
    expect(banner).to_be_hidden(timeout=8_000)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_draft_survives_a_session_that_ended_and_sign_in_returns_to_the_chat(
    new_page: Callable[..., Page],
    server: Server,
    desk: Callable[..., int],
    width: int,
    height: int,
):
    chat_id = desk(f"+2783300{width}", [["in", "Is my refund through?", None]])
    page = new_page(width=width, height=height)
    signed_in_on(page, "alice", f"/agent/chats/{chat_id}/")
    box = page.get_by_role("textbox", name="Message")
    box.fill("Your refund went out this morning")
    (session,) = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    server.chatdesk("shell", "-c", END_SESSION.format(key=session["value"]))
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_url(re.compile(r"/login/\?next="))
    page.screenshot(path=f"{SHOTS}/controls-session-ended-{width}.png")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"/agent/chats/{chat_id}/$"))
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_have_value("Your refund went out this morning")
    page.screenshot(path=f"{SHOTS}/controls-draft-restored-{width}.png")
    box.press("Enter")
    log = page.get_by_role("log", name="Transcript")
    expect(log.locator(".cdp-msg-out")).to_contain_text("Your refund went out this morning")
    expect(box).to_have_value("")
    # Sent: the draft is gone, a reload does not bring it back.
    page.reload()
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_missing_page_is_the_desks_with_its_icon(
    new_page: Callable[..., Page], width: int, height: int
):
    page = new_page(width=width, height=height)
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="This page does not exist")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your home page")).to_have_attribute("href", "/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon is not None
    assert page.request.get(icon).status == 200
    answered = page.request.get("/favicon.ico")
    assert answered.status == 200 and "svg" in answered.headers["content-type"]
    page.screenshot(path=f"{SHOTS}/controls-404-{width}.png")
