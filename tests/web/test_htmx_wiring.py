"""How the pages are wired for htmx: each live fragment names the per-chat event it
refreshes on (live.js fires them; the Content-Security-Policy forbids trigger filters),
the text boxes keep a draft across refreshes (hx-preserve) but start empty after a send,
the bell, mark-read and the @-mention suggestions are hx-* with server-rendered answers,
the one CSRF source is <body hx-headers>, and the agent's waiting times are the server's
words alone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Direction, Message, Notification
from chatdesk.core import clock
from tests.support.chats import ChatMaker

Clients = Callable[[User], Client]
HTMX = {"HX-Request": "true"}
STATIC = Path(__file__).resolve().parents[2] / "chatdesk" / "web" / "static" / "web"


def inbound(chat: Chat, text: str, *, minutes_ago: int = 0) -> Message:
    return Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=Direction.IN,
        text=text,
        created_at=clock.now() - timedelta(minutes=minutes_ago),
    )


def tag(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, pattern
    return found.group(0)


def test_the_panels_parts_refresh_on_their_own_chats_events(
    alice, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000101", agent=alice)
    html = client_as(alice).get(f"/chats/{chat.pk}/panel/").text
    section = tag(html, r'<section class="cdp"[^>]*>')
    assert f"desk:chat-{chat.pk} from:body" in section
    assert "desk:resync from:body" in section
    assert f'hx-get="/chats/{chat.pk}/panel/"' in section
    transcript = tag(html, r'<div class="cdp-transcript"[^>]*>')
    assert f'hx-trigger="desk:message-{chat.pk} from:body delay:120ms"' in transcript
    comments = tag(html, r'<div class="cdp-comment-list"[^>]*>')
    assert f'hx-trigger="desk:comment-{chat.pk} from:body delay:120ms"' in comments
    # No trigger filter anywhere: it would need eval.
    assert "[detail" not in html


def test_drafts_are_kept_across_refreshes_but_a_sent_reply_empties_the_box(
    alice, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000102", agent=alice)
    inbound(chat, "Hello?")
    client = client_as(alice)
    html = client.get(f"/chats/{chat.pk}/panel/").text
    assert 'hx-preserve="true"' in tag(html, r'<textarea id="cdp-\d+-text"[^>]*>')
    assert 'hx-preserve="true"' in tag(html, r'<textarea id="cdp-\d+-comment"[^>]*>')

    sent = client.post(f"/chats/{chat.pk}/panel/send/", {"text": "Hi!"}, headers=HTMX)
    assert sent.status_code == 200
    assert "hx-preserve" not in tag(sent.text, r'<textarea id="cdp-\d+-text"[^>]*>')
    refused = client.post(f"/chats/{chat.pk}/panel/send/", {"text": " "}, headers=HTMX)
    assert 'hx-preserve="true"' in tag(refused.text, r'<textarea id="cdp-\d+-text"[^>]*>')

    added = client.post(f"/chats/{chat.pk}/panel/comments/", {"body": "A note"}, headers=HTMX)
    assert "hx-preserve" not in tag(added.text, r'<textarea id="cdp-\d+-comment"[^>]*>')


def test_mention_suggestions_are_a_server_rendered_listbox(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000103", agent=alice)
    html = client_as(sam).get(f"/chats/{chat.pk}/panel/").text
    box = tag(html, r'<textarea id="cdp-\d+-comment"[^>]*>')
    assert f'hx-get="/chats/{chat.pk}/panel/mentionable/"' in box
    assert 'hx-trigger="cdp:mention"' in box
    assert f'hx-target="#cdp-{chat.pk}-mentions"' in box

    options = client_as(sam).get(
        f"/chats/{chat.pk}/panel/mentionable/",
        {"q": "al", "box": f"cdp-{chat.pk}-mentions"},
        headers=HTMX,
    )
    assert options.status_code == 200
    assert re.findall(r'data-username="([^"]+)"', options.text) == ["alice"]
    assert f'id="cdp-{chat.pk}-mentions-0" role="option" aria-selected="true"' in options.text
    assert "@alice" in options.text
    # A listbox id that is not one is not written into the page.
    odd = client_as(sam).get(
        f"/chats/{chat.pk}/panel/mentionable/", {"q": "al", "box": '"><x'}, headers=HTMX
    )
    assert '"><x' not in odd.text


def test_the_bell_reloads_itself_and_keeps_its_menu_open(
    alice, sam, make_chat: ChatMaker, client_as: Clients
):
    chat = make_chat("+27820000104", agent=alice)
    client_as(sam).post(f"/chats/{chat.pk}/panel/comments/", {"body": "@alice look"})
    as_alice = client_as(alice)
    shell = tag(as_alice.get(f"/chats/{chat.pk}/").text, r'<div class="cdp-bell"[^>]*>')
    assert 'hx-get="/notifications/bell/"' in shell
    assert 'hx-trigger="load, desk:notification from:body' in shell
    bell = as_alice.get("/notifications/bell/", {"open": "1"}, headers=HTMX).text
    assert 'aria-expanded="true"' in bell
    assert "load," not in tag(bell, r'<div class="cdp-bell"[^>]*>')
    assert 'aria-expanded="false"' in as_alice.get("/notifications/bell/", headers=HTMX).text

    one = Notification.objects.get(recipient=alice)
    assert f'hx-post="/notifications/{one.pk}/read/"' in bell
    read = as_alice.post(f"/notifications/{one.pk}/read/", headers=HTMX)
    assert read.status_code == 200
    assert read["HX-Redirect"] == f"/agent/?chat={chat.pk}"
    assert Notification.objects.get(pk=one.pk).read_at is not None
    assert 'hx-post="/notifications/read-all/"' in bell


def test_one_csrf_source_and_no_address_in_the_scripts(alice, client_as: Clients):
    html = client_as(alice).get("/agent/").text
    body = tag(html, r"<body[^>]*>")
    headers = re.search(r"hx-headers='([^']+)'", body)
    assert headers and json.loads(headers.group(1))["X-CSRFToken"]
    assert 'data-live-url="/ws/events"' in body
    assert html.count("hx-headers=") == 1
    assert "data-csrf" not in html
    for script in ("agent.js", "panel.js", "live.js", "supervisor.js"):
        source = (STATIC / script).read_text()
        assert "fetch(" not in source, script
        assert not re.search(r"[\"'](/agent|/chats|/supervisor|/notifications|/ws)", source), script


def test_waiting_times_are_the_servers_words_read_again_every_minute(
    alice, make_chat: ChatMaker, client_as: Clients
):
    calm = make_chat("+27820000105", agent=alice)
    inbound(calm, "Hi", minutes_ago=2)
    slow = make_chat("+27820000106", agent=alice)
    inbound(slow, "Hello?", minutes_ago=7)
    late = make_chat("+27820000107", agent=alice)
    inbound(late, "Anyone?", minutes_ago=20)
    html = client_as(alice).get("/agent/").text
    lists = tag(html, r'<div class="columns" id="agent-lists"[^>]*>')
    assert "every 60s" in lists

    def wait_of(chat: Chat) -> str:
        row = tag(html, rf'<li class="chat-item" data-chat-id="{chat.pk}">[\s\S]*?</li>')
        return tag(row, r'<span class="ws-wait[^"]*">')

    assert wait_of(calm) == '<span class="ws-wait">'
    assert wait_of(slow) == '<span class="ws-wait ws-waiting-long">'
    assert wait_of(late) == '<span class="ws-wait ws-waiting-urgent">'
    script = (STATIC / "agent.js").read_text()
    assert "data-waiting-since" not in script and "waiting " not in script.split("\n", 5)[5]
