"""The live pages: the agent's and the supervisor's lists as fragments that htmx fetches
again on each live event, with the same permissions as the pages, and the pages' place in
the event stream (``<body data-live-seq>``) from which live.js catches up."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Direction, Message
from chatdesk.core import clock
from chatdesk.flows.inbound import receive_message
from chatdesk.providers.base import InboundMessage
from chatdesk.providers.models import Channel
from chatdesk.realtime import log as live_events
from chatdesk.realtime.models import LiveEvent, LiveEventType

HTMX = {"HX-Request": "true"}


def live_seq_of(html: str) -> int:
    match = re.search(r'<body[^>]* data-live-seq="(\d+)"', html)
    assert match, "the page does not say where it stands in the event stream"
    return int(match.group(1))


def says(
    chat: Chat,
    text: str,
    *,
    direction: str = Direction.IN,
    minutes_ago: int = 0,
    author: User | None = None,
) -> Message:
    at = clock.now() - timedelta(minutes=minutes_ago)
    return Message.objects.create(
        chat=chat,
        channel=chat.channel,
        direction=direction,
        text=text,
        author=author,
        status=None if direction == Direction.IN else "sent",
        created_at=at,
    )


def an_event(seq: int) -> LiveEvent:
    """A numbered event in the log, as the sequencer leaves it."""
    return LiveEvent.objects.create(
        seq=seq, type=LiveEventType.PRESENCE_CHANGED, data={}, everyone=True, created_at=clock.now()
    )


# Permissions: the fragments answer exactly who the pages answer.


@pytest.mark.parametrize("path", ["/agent/lists/", "/supervisor/lists/"])
def test_anonymous_fragments_go_to_login(client: Client, db: Any, path: str):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("path", ["/agent/lists/", "/supervisor/lists/"])
def test_a_fragment_fetched_by_htmx_after_sign_out_sends_the_page_to_login(
    client: Client, db: Any, path: str
):
    # A 302 would be followed by the browser and the login form swapped into the list.
    response = client.get(path, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/"
    assert response.content == b""


@pytest.mark.parametrize(
    ("persona", "path"),
    [("sam", "/agent/lists/"), ("ada", "/agent/lists/"), ("alice", "/supervisor/lists/")],
)
def test_wrong_role_gets_403_from_the_fragments(request, client_as, persona: str, path: str):
    response = client_as(request.getfixturevalue(persona)).get(path, headers=HTMX)
    assert response.status_code == 403


def test_only_get_is_allowed(client_as, alice: User, sam: User):
    assert client_as(alice).post("/agent/lists/").status_code == 405
    assert client_as(sam).post("/supervisor/lists/").status_code == 405


def test_the_agent_fragment_lists_only_the_agents_own_open_chats(
    client_as, make_chat, alice: User, bob: User
):
    make_chat("+27820000001", name="Mine Open", agent=alice)
    make_chat("+27820000002", name="Mine Ticket", agent=alice, state="assigned")
    make_chat("+27820000003", name="Mine Closed", agent=alice, state="closed")
    make_chat("+27820000004", name="Bobs Chat", agent=bob)
    make_chat("+27820000005", name="Queue Ticket", state="unassigned")
    response = client_as(alice).get("/agent/lists/", headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<body" not in html  # a fragment, not a page
    assert re.search(r'Live chats <span class="count">1</span>', html)
    assert re.search(r'My tickets <span class="count">1</span>', html)
    assert "Mine Open" in html and "Mine Ticket" in html
    for hidden in ("Mine Closed", "Bobs Chat"):
        assert hidden not in html
    # A ticket of no department waits in the desk's queue, every agent's.
    assert "Queue Ticket" in html

    bobs = client_as(bob).get("/agent/lists/").content.decode()
    assert "Bobs Chat" in bobs and "Mine Open" not in bobs


def test_the_supervisor_fragment_shows_a_tab_with_every_tabs_count(
    client_as, make_chat, sam: User, alice: User, bob: User
):
    make_chat("+27820000001", name="Open Alice", agent=alice)
    make_chat("+27820000002", name="Open Bob", agent=bob)
    make_chat("+27820000003", name="Closed One", agent=alice, state="closed")
    make_chat("+27820000004", name="Ticket One", state="unassigned")
    client = client_as(sam)
    html = client.get("/supervisor/lists/", headers=HTMX).content.decode()
    assert "<body" not in html
    for label, count in (("Chats", 2), ("Closed", 1), ("Tickets", 1)):
        assert re.search(rf'{label} <span class="count">{count}</span>', html), label
    assert 'href="?tab=chats" class="tab" aria-current="page"' in html
    assert re.search(r'<span>Alice Agent</span><span class="count">1</span>', html)
    assert "Open Alice" in html and "Open Bob" in html and "Closed One" not in html

    html = client.get("/supervisor/lists/?tab=tickets", headers=HTMX).content.decode()
    assert 'href="?tab=tickets" class="tab" aria-current="page"' in html
    assert "Ticket One" in html and "Open Alice" not in html
    html = client.get("/supervisor/lists/?tab=<b>", headers=HTMX).content.decode()
    assert 'href="?tab=chats" class="tab" aria-current="page"' in html


# The pages fetch their own fragments again when live.js says so.


def test_the_agent_page_refreshes_its_lists_on_live_events(client_as, alice: User):
    html = client_as(alice).get("/agent/").content.decode()
    lists = re.search(r'<div class="columns" id="agent-lists"[^>]*>', html)
    assert lists, "the agent's lists are not a live fragment"
    assert 'hx-get="/agent/lists/"' in lists.group(0)
    # And every minute, so the waiting times (the server's words) stay true.
    assert 'hx-trigger="desk:lists from:body, desk:resync from:body, every 60s"' in lists.group(0)
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert html.index("htmx-2.min.js") < html.index("web/live.js")  # htmx listens first


def test_the_supervisor_page_refreshes_the_tab_it_shows(client_as, sam: User):
    html = client_as(sam).get("/supervisor/?tab=closed").content.decode()
    lists = re.search(r'<div id="supervisor-lists"[^>]*>', html)
    assert lists, "the console's lists are not a live fragment"
    assert 'hx-get="/supervisor/lists/?tab=closed"' in lists.group(0)
    assert 'hx-trigger="desk:lists from:body, desk:resync from:body"' in lists.group(0)


# The page's place in the event stream.


@pytest.mark.parametrize(("persona", "path"), [("alice", "/agent/"), ("sam", "/supervisor/")])
def test_a_page_carries_the_newest_seq_with_or_without_chats(
    request, client_as, make_chat, persona: str, path: str
):
    user = request.getfixturevalue(persona)
    client = client_as(user)
    assert live_seq_of(client.get(path).content.decode()) == 0  # nothing happened yet

    an_event(1)
    an_event(2)
    assert live_seq_of(client.get(path).content.decode()) == 2  # an empty list
    make_chat("+27820000001", name="Open One", agent=request.getfixturevalue("alice"))
    an_event(3)
    html = client.get(path).content.decode()
    assert "Open One" in html
    assert live_seq_of(html) == 3 == live_events.latest_seq()


def test_pages_without_live_lists_carry_no_seq(client_as, ada: User):
    html = client_as(ada).get("/logout/").content.decode()
    assert "data-live-seq" not in html


def test_a_message_through_the_service_shows_in_the_fragment_and_moves_the_seq(
    client_as, online, alice: User, sandbox: Channel, django_capture_on_commit_callbacks
):
    online(alice)
    client = client_as(alice)
    before = live_seq_of(client.get("/agent/").content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        receive_message(
            channel=sandbox,
            inbound=InboundMessage(
                provider_message_id="sim-1",
                from_phone="+27821234567",
                timestamp=clock.now(),
                content_type="text",
                text="Where is my parcel?",
                contact_name="Carol Customer",
            ),
        )
    after = live_events.latest_seq()
    assert after > before  # the events the page will replay with ?since=before
    fragment = client.get("/agent/lists/", headers=HTMX).content.decode()
    assert "Carol Customer" in fragment
    assert "Where is my parcel?" in fragment
    assert live_seq_of(client.get("/agent/").content.decode()) == after


# What a list shows of each chat.


def test_each_chat_shows_its_latest_message(client_as, make_chat, alice: User, sam: User):
    chat = make_chat("+27820000001", name="Carol Customer", agent=alice)
    says(chat, "An older question", minutes_ago=5)
    says(chat, "Yes, it left this morning.", direction=Direction.OUT, minutes_ago=1, author=alice)
    quiet = make_chat("+27820000002", name="No Words Yet", agent=alice)
    agent_html = client_as(alice).get("/agent/lists/").content.decode()
    assert "You:</span> Yes, it left this morning." in agent_html
    assert "An older question" not in agent_html
    item = re.search(rf'<li class="chat-item" data-chat-id="{quiet.pk}">.*?</li>', agent_html, re.S)
    assert item and "chat-preview" not in item.group(0)

    says(chat, "Thanks!", minutes_ago=0)
    supervisor_html = client_as(sam).get("/supervisor/lists/").content.decode()
    assert "Customer:</span> Thanks!" in supervisor_html


def test_customer_text_in_the_fragments_is_escaped(client_as, make_chat, alice: User, sam: User):
    chat = make_chat("+27820000009", name='<script>alert("x")</script>', agent=alice)
    says(chat, "<img src=x onerror=alert(1)>")
    for client, path in (
        (client_as(alice), "/agent/lists/"),
        (client_as(sam), "/supervisor/lists/"),
    ):
        html = client.get(path).content.decode()
        assert "<script>alert" not in html and "<img" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


# Cost: a burst of events makes every open page fetch its fragment again.


def test_the_fragments_cost_a_fixed_number_of_queries(
    client_as, make_chat, alice: User, bob: User, sam: User, django_assert_max_num_queries
):
    for i in range(12):
        chat = make_chat(f"+2782000{i:04d}", name=f"C{i}", agent=alice if i % 2 else bob)
        says(chat, f"Message {i}")
    an_event(1)
    supervisor = client_as(sam)
    # session + user, the list with its seq and latest messages, tab totals, tab summary
    with django_assert_max_num_queries(5):
        assert supervisor.get("/supervisor/lists/").status_code == 200
    # the page: the lists' five, and the agents' presence
    with django_assert_max_num_queries(6):
        assert supervisor.get("/supervisor/").status_code == 200
    # session + user, every agent with whether they are connected
    with django_assert_max_num_queries(3):
        assert supervisor.get("/supervisor/team/").status_code == 200
    agent = client_as(alice)
    # session + user, the list with its seq and latest messages
    with django_assert_max_num_queries(3):
        assert agent.get("/agent/lists/").status_code == 200


def test_the_fragments_are_never_cached(client_as, alice: User, sam: User):
    for client, path in (
        (client_as(alice), "/agent/lists/"),
        (client_as(sam), "/supervisor/lists/"),
    ):
        assert "no-store" in client.get(path)["Cache-Control"]
