"""GET /chats and /chats/{id}: the WhatsApp contact window under a frozen clock, and a page
of chats costing the same queries whatever its size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chatdesk.providers.models import Channel, ChannelKind
from tests.support import chat_factory as make


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def whatsapp(db, sales) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP, name="WhatsApp Sales", department=sales
    )


NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_the_whatsapp_window_in_the_list_and_for_one_chat(
    api_as, sam, alice, whatsapp, sandbox, sales
):
    other_number = Channel.objects.create(
        kind=ChannelKind.WHATSAPP, name="WhatsApp Two", department=sales
    )
    recent = make.chat(whatsapp, agent=alice, last_inbound_at=NOW - timedelta(hours=23))
    stale = make.chat(whatsapp, agent=alice, last_inbound_at=NOW - timedelta(hours=25))
    silent = make.chat(whatsapp, agent=alice)
    sandboxed = make.chat(sandbox, agent=alice, last_inbound_at=NOW - timedelta(days=3))
    # A closed chat whose contact wrote since, in a newer chat on the same number.
    returning = make.contact()
    closed_old = make.chat(
        whatsapp,
        state="closed",
        of=returning,
        agent=alice,
        created_at=NOW - timedelta(days=2),
        closed_at=NOW - timedelta(days=2),
        last_inbound_at=NOW - timedelta(days=2),
    )
    make.chat(whatsapp, of=returning, agent=alice, last_inbound_at=NOW - timedelta(hours=1))
    # A closed chat whose contact wrote since only on another number: still shut here.
    elsewhere = make.contact()
    closed_elsewhere = make.chat(
        whatsapp,
        state="closed",
        of=elsewhere,
        agent=alice,
        created_at=NOW - timedelta(days=2),
        closed_at=NOW - timedelta(days=2),
        last_inbound_at=NOW - timedelta(hours=30),
    )
    make.chat(other_number, of=elsewhere, agent=alice, last_inbound_at=NOW - timedelta(hours=1))

    expected = {
        recent.pk: (True, "2025-03-10T13:00:00Z"),
        stale.pk: (False, "2025-03-10T11:00:00Z"),
        silent.pk: (False, None),
        sandboxed.pk: (True, None),
        closed_old.pk: (True, "2025-03-11T11:00:00Z"),
        closed_elsewhere.pk: (False, "2025-03-10T06:00:00Z"),
    }
    api = api_as(sam)
    listed = {
        item["id"]: (item["window_open"], item["window_expires_at"])
        for tab in ("chats", "closed")
        for item in api.get("/chats", tab=tab).json()["items"]
    }
    assert {pk: listed[pk] for pk in expected} == expected
    for pk, window in expected.items():
        alone = api.get(f"/chats/{pk}").json()
        assert (alone["window_open"], alone["window_expires_at"]) == window, pk


def test_the_window_closes_as_the_clock_passes_24_hours(api_as, sam, alice, whatsapp):
    chat = make.chat(whatsapp, agent=alice, last_inbound_at=NOW)
    api = api_as(sam)

    with time_machine.travel(NOW + timedelta(hours=23, minutes=59), tick=False):
        assert api.get(f"/chats/{chat.pk}").json()["window_open"] is True
        assert api.get("/chats").json()["items"][0]["window_open"] is True
    with time_machine.travel(NOW + timedelta(hours=24), tick=False):
        assert api.get(f"/chats/{chat.pk}").json()["window_open"] is False
        assert api.get("/chats").json()["items"][0]["window_open"] is False


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize("viewer", ["sam", "alice"])
@time_machine.travel(NOW, tick=False)
def test_a_page_costs_the_same_queries_whatever_its_size(
    api_as, alice, whatsapp, sandbox, django_assert_num_queries, request, size, viewer
):
    for i in range(size):
        channel = whatsapp if i % 2 else sandbox
        make.chat(channel, agent=alice, last_inbound_at=NOW - timedelta(hours=i))
        make.chat(
            channel,
            state="closed",
            agent=alice,
            closed_at=NOW,
            last_inbound_at=NOW - timedelta(hours=i),
        )
    api = api_as(request.getfixturevalue(viewer))

    for tab in ("chats", "closed"):
        # The token's user, then the page with its channels, contacts and windows.
        with django_assert_num_queries(2):
            response = api.get("/chats", tab=tab, limit=size)
        assert len(ids(response)) == size
