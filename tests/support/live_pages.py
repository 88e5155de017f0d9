"""Pages that stay live, as the browser tests watch them: the frames each page's
``/ws/events`` sockets receive, a customer writing from the simulator, signing in and
checking that the page was never reloaded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page, WebSocket, expect

from tests.support.browser import log_in

LIVE_DEADLINE_MS = 2_000
FORGET_CONTACTS = """
from chatdesk.chats.models import Chat, Contact
for chat in Chat.objects.filter(contact__phone__in={phones!r}):
    chat.delete()
Contact.objects.filter(phone__in={phones!r}).delete()
"""


@dataclass
class Stream:
    """What the page's live connections did: each socket's URL and the frames it got."""

    sockets: list[WebSocket] = field(default_factory=list)
    frames: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def opened(socket: WebSocket) -> None:
            if "/ws/events" not in socket.url:
                return
            index = len(self.sockets)
            self.sockets.append(socket)
            socket.on(
                "framereceived",
                lambda payload: self.frames.append((index, json.loads(payload))),
            )

        page.on("websocket", opened)

    def since(self, index: int) -> int | None:
        match = re.search(r"[?&]since=(\d+)", self.sockets[index].url)
        return int(match.group(1)) if match else None

    def received(self, index: int, type: str) -> list[dict[str, Any]]:
        return [frame for i, frame in self.frames if i == index and frame.get("type") == type]


def customer_writes(page: Page, name: str, text: str) -> str:
    """A new customer on the simulator sends ``text``; their phone number. Returns once
    the simulator shows it sent, that is once the desk has stored it."""
    page.goto("/simulator/")
    page.get_by_role("button", name="New customer").click()
    page.get_by_label("Your name").fill(name)
    phone = page.get_by_label("Phone number").input_value()
    page.get_by_role("button", name="Start chatting").click()
    expect(page.get_by_role("group", name="Who you are")).to_contain_text(name)
    writes_again(page, text)
    return phone


def writes_again(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    mine = page.get_by_role("region", name="Conversation with Chat Desk").locator(
        ".sim-bubble-mine"
    )
    expect(mine.last).to_contain_text(text)
    expect(box).to_have_value("")


def open_signed_in(page: Page, username: str, path: str, stream: Stream) -> None:
    stream.watch(page)
    log_in(page, username)
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("html")).to_have_attribute("data-live", "on")
    # A marker that a reload would wipe out.
    page.evaluate("window.deskTestMarker = 'not reloaded'")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.deskTestMarker") == "not reloaded"
