"""Hostile text from customers and colleagues renders as text in Chromium: a corpus of
script-injection payloads arrives as WhatsApp message bodies (signed webhook), as the
contact's profile name, as comments with @-mentions, as template variables an agent
sends, and through the simulator; every page that shows them shows the exact text, runs
nothing (no dialog, ``window.__xss`` never set) and gains no element or attribute from it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from chatdesk.providers.adapters import whatsapp
from tests.support.browser import Server, log_in, wait_until_settled

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    '<svg onload="window.__xss=1"><circle r="9"></circle></svg>',
    '<a href="javascript:window.__xss=1">open me</a>',
    '"><img src=x onerror=window.__xss=1>',
    "'><svg/onload=window.__xss=1>",
    "</textarea></title><script>window.__xss=1</script>",
    "{{7*7}} ${7*7} #{7*7} {% now 'Y' %}",
    '<div hx-get="/logout/" hx-trigger="load">htmx</div>',
    '<button hx-on:click="window.__xss=1" hx-on="click: window.__xss=1">press</button>',
    "[click me](javascript:window.__xss=1) **bold** <b>bold</b>",
    "\u202egnp.exe \uff1cscript\uff1ewindow.__xss=1\uff1c/script\uff1e <scr\u200bipt>",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "<style>body{display:none}</style>&lt;b&gt;already escaped&lt;/b&gt; &amp;",
]
NAME = "\"'><img src=x onerror=window.__xss=1>{{7*7}}"
SIM_NAME = "<svg onload=window.__xss=1> Sim {{7*7}}"
TEMPLATE_BODY = "Hello {{1}}, your order is ready."
TEMPLATE_VARIABLES = PAYLOADS[:4]
REPLY = PAYLOADS[4]

# What an injected payload would leave behind in the DOM, even where the
# Content-Security-Policy stopped it running: elements or attributes our pages never use.
INJECTED = """
() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["iframe", "object", "embed"].includes(tag)
        || (tag === "script" && !el.src)
        || (tag === "style" && el.closest("body"))
        || (tag === "img" && el.getAttribute("src") === "x")) {
      found.push(el.outerHTML.slice(0, 160));
      continue;
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value.trim().toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-on") || value.startsWith("javascript:")
          || (name === "hx-get" && value === "/logout/")) {
        found.push(el.outerHTML.slice(0, 160));
      }
    }
  }
  return found;
}
"""

# How many elements show exactly ``text`` (their whole text, trimmed).
EXACT = """
(text) => Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.textContent.trim() === text).length
"""
# The texts of the elements matching a selector.
TEXTS = """
(selector) => Array.from(document.querySelectorAll(selector)).map((el) => el.textContent.trim())
"""

SET_UP = """
import json
from chatdesk.accounts.models import Connection, User
from chatdesk.accounts.services import issue_api_token
from chatdesk.core import clock
from chatdesk.providers.models import Channel, Template
channel = Channel.objects.get(kind="whatsapp")
secrets = dict(channel.secrets)
template = Template.objects.create(
    channel=channel, name="xss_check", language="en_US", body={body!r}, status="approved",
)
alice = User.objects.get(username="alice")
# Alice is on duty, so the new chat is routed to her.
Connection.objects.create(
    user=alice, channel_name="xss-corpus", opened_at=clock.now(), last_seen_at=clock.now()
)
print(json.dumps({{
    "channel_id": channel.pk,
    "app_secret": secrets["app_secret"],
    "phone_number_id": channel.config["phone_number_id"],
    "template_id": template.pk,
    "alice": issue_api_token(user=alice, name="xss-corpus"),
    "sam": issue_api_token(user=User.objects.get(username="sam"), name="xss-corpus"),
}}))
"""

FIND_CHAT = """
import json
from chatdesk.chats.models import Chat
chat = Chat.objects.get(contact__phone={phone!r}, status="open")
print(json.dumps({{"chat_id": chat.pk, "agent": chat.agent.username if chat.agent else None}}))
"""

CLEAN_UP = """
from chatdesk.accounts.models import ApiToken, Connection
from chatdesk.chats.models import Chat, Contact
from chatdesk.providers.models import Template
Connection.objects.filter(channel_name="xss-corpus").delete()
ApiToken.objects.filter(name="xss-corpus").delete()
for chat in Chat.objects.filter(contact__phone__in={phones!r}):
    chat.delete()
Contact.objects.filter(phone__in={phones!r}).delete()
Template.objects.filter(name="xss_check").delete()
"""

CUSTOMER = "+27826660001"


@dataclass(frozen=True)
class Corpus:
    chat_id: int


def shell_json(server: Server, script: str) -> Any:
    """What a ``chatdesk shell`` script printed last, as JSON."""
    return json.loads(server.chatdesk("shell", "-c", script).strip().splitlines()[-1])


def _api(server: Server, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 201, (path, response.status_code, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def _webhook(server: Server, made: dict[str, Any]) -> None:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550001111",
            "phone_number_id": made["phone_number_id"],
        },
        "contacts": [{"profile": {"name": NAME}, "wa_id": CUSTOMER.lstrip("+")}],
        "messages": [
            {
                "from": CUSTOMER.lstrip("+"),
                "id": f"wamid.xss.{n}.{time.time_ns()}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": payload},
            }
            for n, payload in enumerate(PAYLOADS)
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
        }
    ).encode()
    response = httpx.post(
        f"{server.url}/webhooks/whatsapp/{made['channel_id']}",
        content=body,
        headers={
            "Content-Type": "application/json",
            whatsapp.SIGNATURE_HEADER: whatsapp.signature_for(body, made["app_secret"]),
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == len(PAYLOADS), response.json()


@pytest.fixture(scope="module")
def corpus(server: Server) -> Iterator[Corpus]:
    """The payloads, put where customers and colleagues can put text."""
    phones = [CUSTOMER]
    try:
        made = shell_json(server, SET_UP.format(body=TEMPLATE_BODY))
        _webhook(server, made)
        found = shell_json(server, FIND_CHAT.format(phone=CUSTOMER))
        assert found["agent"] == "alice", found
        chat_id = found["chat_id"]
        for payload in PAYLOADS:
            _api(server, made["sam"], f"/chats/{chat_id}/comments", {"body": f"@alice {payload}"})
        _api(
            server,
            made["alice"],
            f"/chats/{chat_id}/messages",
            {"template_id": made["template_id"], "variables": TEMPLATE_VARIABLES[:1]},
        )
        for variable in TEMPLATE_VARIABLES[1:]:
            _api(
                server,
                made["alice"],
                f"/chats/{chat_id}/messages",
                {"template_id": made["template_id"], "variables": [variable]},
            )
        _api(server, made["alice"], f"/chats/{chat_id}/messages", {"text": REPLY})
        yield Corpus(chat_id=chat_id)
    finally:
        server.chatdesk("shell", "-c", CLEAN_UP.format(phones=phones + _sim_phones))


_sim_phones: list[str] = []


class Watch:
    """Dialogs a page opened; each is dismissed."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []

        def dismiss(dialog: Dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)


def assert_inert(page: Page, watch: Watch, where: str) -> None:
    # Give anything that would run (an image's onerror, htmx's load trigger) its chance.
    wait_until_settled(page)
    page.wait_for_timeout(300)
    assert watch.dialogs == [], f"{where}: a dialog opened: {watch.dialogs}"
    assert page.evaluate("typeof window.__xss") == "undefined", f"{where}: a payload ran"
    assert page.evaluate(INJECTED) == [], f"{where}: the page gained markup from text"
    assert page.evaluate(EXACT, "49") == 0, f"{where}: a template expression was evaluated"


def assert_shown(page: Page, text: str, where: str) -> None:
    assert page.evaluate(EXACT, text) >= 1, f"{where}: {text!r} is not shown as text"


def template_text(variable: str) -> str:
    return TEMPLATE_BODY.replace("{{1}}", variable)


def check_panel(page: Page, watch: Watch, where: str) -> None:
    transcript = page.locator(".cdp-messages")
    expect(transcript.locator(".cdp-msg-text").first).to_be_visible()
    # The deliveries fail in the background (the seed channel has no Graph API); the texts
    # stay whatever their status.
    expect(page.locator(".cdp-msg-out:not(.cdp-msg-auto) .cdp-msg-text")).to_have_count(
        len(TEMPLATE_VARIABLES) + 1, timeout=10_000
    )
    messages = page.evaluate(TEXTS, ".cdp-msg-text")
    for payload in PAYLOADS:
        assert payload in messages, f"{where}: inbound {payload!r} not shown as text"
    for variable in TEMPLATE_VARIABLES:
        assert template_text(variable) in messages, f"{where}: template with {variable!r}"
    assert REPLY in messages, f"{where}: the agent's reply"
    comments = page.evaluate(TEXTS, ".cdp-comment-body")
    for payload in PAYLOADS:
        assert f"@alice {payload}" in comments, f"{where}: comment {payload!r}"
    assert page.locator(".cdp-comment-body mark.cdp-mention").count() == len(PAYLOADS)
    assert_shown(page, NAME, where)
    assert_inert(page, watch, where)


def test_the_supervisor_console_and_chat_panel_show_the_payloads_as_text(
    new_page: Callable[..., Page], corpus: Corpus
) -> None:
    page = new_page()
    watch = Watch(page)
    log_in(page, "sam")
    expect(page).to_have_url(re.compile(r"/supervisor/$"))
    listing = page.get_by_role("region", name="Open chats")
    expect(listing.locator(".chat-item").first).to_be_visible()
    assert_shown(page, NAME, "console list")
    assert_inert(page, watch, "console list")

    page.goto(f"/supervisor/chats/{corpus.chat_id}/")
    check_panel(page, watch, "console panel")
    # The timeline, in the same panel, says who commented on the chat of NAME.
    assert_inert(page, watch, "console panel timeline")

    page.goto(f"/chats/{corpus.chat_id}/")
    check_panel(page, watch, "chat page")


def test_the_agent_workspace_and_bell_show_the_payloads_as_text(
    new_page: Callable[..., Page], corpus: Corpus
) -> None:
    page = new_page()
    watch = Watch(page)
    log_in(page, "alice")
    expect(page).to_have_url(re.compile(r"/agent/$"))
    assert_shown(page, NAME, "agent lists")
    assert_inert(page, watch, "agent lists")

    page.goto(f"/agent/chats/{corpus.chat_id}/")
    check_panel(page, watch, "agent workspace")

    page.locator(".cdp-bell-button").click()
    items = page.locator(".cdp-bell-item")
    expect(items.first).to_be_visible()
    texts = page.evaluate(TEXTS, ".cdp-bell-text")
    mentions = [text for text in texts if NAME in text]
    assert len(mentions) >= 1, f"the bell does not name the contact as text: {texts}"
    assert_inert(page, watch, "bell")


def test_the_simulator_shows_a_customers_payloads_as_text(
    new_page: Callable[..., Page], corpus: Corpus, server: Server
) -> None:
    page = new_page()
    watch = Watch(page)
    page.goto("/simulator/")
    page.get_by_role("button", name="New customer").click()
    page.get_by_label("Your name").fill(SIM_NAME)
    phone = page.get_by_label("Phone number").input_value()
    _sim_phones.append(phone)
    page.get_by_role("button", name="Start chatting").click()
    expect(page.get_by_role("group", name="Who you are")).to_contain_text(SIM_NAME)
    box = page.get_by_role("textbox", name="Message")
    conversation = page.get_by_role("region", name="Conversation with Chat Desk")
    for payload in PAYLOADS[:6]:
        box.fill(payload)
        box.press("Enter")
        expect(box).to_have_value("")
        expect(conversation.locator(".sim-bubble-mine").last).to_contain_text(payload)
    assert_inert(page, watch, "simulator")
    for payload in PAYLOADS[:6]:
        assert_shown(page, payload, "simulator")
    assert_shown(page, SIM_NAME, "simulator")

    # The same customer's chat on the supervisor's console.
    supervisor = new_page()
    watched = Watch(supervisor)
    log_in(supervisor, "sam")
    expect(supervisor).to_have_url(re.compile(r"/supervisor/$"))
    found = shell_json(server, FIND_CHAT.format(phone=phone))
    supervisor.goto(f"/supervisor/chats/{found['chat_id']}/")
    inbound = ".cdp-msg-in .cdp-msg-text"
    expect(supervisor.locator(inbound)).to_have_count(6, timeout=10_000)
    assert supervisor.evaluate(TEXTS, inbound) == PAYLOADS[:6]
    assert_shown(supervisor, SIM_NAME, "console panel of the simulator's chat")
    assert_inert(supervisor, watched, "console panel of the simulator's chat")
