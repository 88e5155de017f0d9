"""The console and the workspace stay cheap however big the desk: the same queries for a
few chats as for many, a page of rows rather than every chat, and the lists that could
grow without end (closed chats, a department's queue) cut to their first page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import truncatechars
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Direction, Message
from chatdesk.chats.queries import QUEUE_LIMIT
from chatdesk.core import clock
from chatdesk.routing.models import Department
from chatdesk.web.views import PREVIEW_CHARS, TAB_LIST_LIMIT, list_time, preview

CONSOLE_PATHS = (
    "/supervisor/",
    "/supervisor/?tab=closed",
    "/supervisor/?tab=tickets",
    "/supervisor/?tab=tickets&state=closed",
    "/supervisor/lists/?tab=chats",
)


def says(chat: Chat, text: str, *, minutes_ago: float = 0) -> None:
    at = clock.now() - timedelta(minutes=minutes_ago)
    Message.objects.create(
        chat=chat, channel=chat.channel, direction=Direction.IN, text=text, created_at=at
    )
    Chat.objects.filter(pk=chat.pk).update(last_message_at=at)


def fill(make_chat: Any, sales: Department, agents: list[User], start: int, count: int) -> None:
    """``count`` chats of every kind: open and closed chats, unassigned tickets in sales,
    assigned and closed tickets, each with a message."""
    states = ("open", "closed", "unassigned", "assigned", "ticket_closed")
    for n in range(start, start + count):
        state = states[n % len(states)]
        agent = agents[n % len(agents)] if state != "unassigned" else None
        chat = make_chat(f"+2782{n:07d}", name=f"Contact {n}", agent=agent, state=state)
        if state == "unassigned":
            Chat.objects.filter(pk=chat.pk).update(department=sales)
        says(chat, f"Message {n}")


def queries_of(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="chat-item[^"]*" data-chat-id="(\d+)"', html)]


def test_the_console_costs_the_same_queries_for_a_few_chats_as_for_many(
    client_as, make_chat, sales: Department, alice: User, bob: User, sam: User
):
    fill(make_chat, sales, [alice, bob], 0, 10)
    client = client_as(sam)
    for path in CONSOLE_PATHS:
        client.get(path)  # the session's first request may write it
    few = {path: queries_of(client, path) for path in CONSOLE_PATHS}
    fill(make_chat, sales, [alice, bob], 10, 5 * TAB_LIST_LIMIT)
    many = {path: queries_of(client, path) for path in CONSOLE_PATHS}
    assert many == few
    html = client.get("/supervisor/?tab=closed").content.decode()
    assert len(rows(html)) == TAB_LIST_LIMIT
    assert f"Showing the {TAB_LIST_LIMIT} most recent of" in html


def test_the_workspace_costs_the_same_queries_for_a_few_chats_as_for_many(
    client_as, make_chat, sales: Department, alice: User, bob: User
):
    fill(make_chat, sales, [alice, bob], 0, 10)
    client = client_as(alice)
    for path in ("/agent/", "/agent/lists/"):
        client.get(path)
    few = {path: queries_of(client, path) for path in ("/agent/", "/agent/lists/")}
    fill(make_chat, sales, [alice, bob], 10, 5 * QUEUE_LIMIT)
    many = {path: queries_of(client, path) for path in ("/agent/", "/agent/lists/")}
    assert many == few


def test_the_queue_lists_its_oldest_tickets_and_counts_them_all(
    client_as, make_chat, sales: Department, alice: User, bob: User
):
    tickets = []
    for n in range(QUEUE_LIMIT + 3):
        chat = make_chat(f"+2783{n:07d}", name=f"Waiting {n}", state="unassigned")
        # The first made waited longest; the newest message is on the oldest ticket.
        Chat.objects.filter(pk=chat.pk).update(
            department=sales, created_at=clock.now() - timedelta(minutes=500 - n)
        )
        says(chat, f"Still waiting {n}", minutes_ago=n)
        tickets.append(chat.pk)
    mine = make_chat("+27840000001", name="Mine", agent=alice)
    says(mine, "Hello")
    html = client_as(alice).get("/agent/lists/").content.decode()
    queue = re.search(r'aria-labelledby="queue-title">.*?</section>', html, re.S)
    assert queue is not None
    assert f'Unassigned tickets <span class="count">{QUEUE_LIMIT + 3}</span>' in queue.group(0)
    assert rows(queue.group(0)) == tickets[:QUEUE_LIMIT]
    assert f"Showing the {QUEUE_LIMIT} oldest of {QUEUE_LIMIT + 3}." in queue.group(0)
    # The agent's own chats are never cut.
    assert mine.pk in rows(html)
    # Accepting the oldest still takes the oldest, listed or not.
    response = client_as(alice).post(
        "/agent/tickets/accept/", {"oldest": str(QUEUE_LIMIT + 3)}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert Chat.objects.filter(pk__in=tickets, agent=alice).count() == QUEUE_LIMIT + 3


def test_a_short_queue_says_nothing_about_a_cut(client_as, make_chat, sales, alice: User):
    chat = make_chat("+27830000001", name="Only one", state="unassigned")
    Chat.objects.filter(pk=chat.pk).update(department=sales)
    html = client_as(alice).get("/agent/lists/").content.decode()
    assert 'Unassigned tickets <span class="count">1</span>' in html
    assert "oldest of" not in html


def test_closed_lists_show_the_most_recently_closed_first(
    client_as, make_chat, alice: User, sam: User
):
    # Quiet for a long while, then closed for inactivity a moment ago ...
    idle = make_chat("+27820000001", name="Idle", agent=alice, state="closed")
    says(idle, "Anyone?", minutes_ago=600)
    Chat.objects.filter(pk=idle.pk).update(closed_at=clock.now() - timedelta(minutes=1))
    # ... after a chat whose last message came later but which closed earlier.
    done = make_chat("+27820000002", name="Done", agent=alice, state="closed")
    says(done, "Thanks, bye", minutes_ago=30)
    Chat.objects.filter(pk=done.pk).update(closed_at=clock.now() - timedelta(minutes=29))
    for state, path in (
        ("closed", "/supervisor/?tab=closed"),
        ("ticket_closed", "/supervisor/?tab=tickets&state=closed"),
    ):
        if state == "ticket_closed":
            Chat.objects.filter(pk__in=[idle.pk, done.pk]).update(
                kind="ticket", ticket_state="closed"
            )
        html = client_as(sam).get(path).content.decode()
        assert rows(html) == [idle.pk, done.pk], path


# The rows' ready-made texts are what the template filters would have written.


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    zone=st.sampled_from(["UTC", "Africa/Johannesburg", "America/New_York", "Asia/Kolkata"]),
)
def test_row_times_read_as_the_date_filter_writes_them(when: datetime, zone: str) -> None:
    with timezone.override(ZoneInfo(zone)):
        shown = list_time(when)
        assert shown.iso == date_filter(timezone.localtime(when), "c")
        local = timezone.localtime(when)
        abbreviation, name = date_filter(local, "T"), zone
        named = name if abbreviation in ("", name) else f"{abbreviation} ({name})"
        assert shown.full == f"{date_filter(local, 'l j F Y, H:i')} {named}"
        assert shown.day_time == date_filter(timezone.localtime(when), "j M, H:i")
        assert shown.clock == date_filter(timezone.localtime(when), "H:i")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=400) | st.text(alphabet="ae\u0301\u0308\u0327o ", max_size=400))
def test_row_previews_are_cut_as_truncatechars_cuts(text: str) -> None:
    assert preview(text) == truncatechars(text, PREVIEW_CHARS)
