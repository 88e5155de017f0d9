"""GET /chats, /chats/summary and /chats/{id}: the tabs, their filters and cursors, and who
sees what (the contact window is in test_chats_window.py)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chatdesk.chats.models import Chat
from chatdesk.providers.models import Channel, ChannelKind
from tests.support import chat_factory as make

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
BAD_CURSOR = {"detail": "The cursor is not valid; start again without it."}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def pks(*chats: Chat) -> list[int]:
    return [c.pk for c in chats]


@pytest.fixture
def support_line(db, support) -> Channel:
    return Channel.objects.create(kind=ChannelKind.SMS, name="Support SMS", department=support)


@dataclass
class Desk:
    alice_open: Chat
    bob_open: Chat
    queued: Chat
    alice_open_later: Chat
    dave_open: Chat
    alice_closed_first: Chat
    bob_closed: Chat
    alice_closed_last: Chat
    sales_unassigned: Chat
    support_unassigned: Chat
    bob_ticket: Chat
    alice_ticket: Chat
    alice_closed_ticket: Chat


@pytest.fixture
def desk(sandbox, support_line, alice, bob, dave) -> Desk:
    """Chats created a minute apart; closed ones closed in another order than created."""
    return Desk(
        alice_open=make.chat(sandbox, agent=alice, created_at=at(1)),
        bob_open=make.chat(sandbox, agent=bob, created_at=at(2)),
        queued=make.chat(sandbox, created_at=at(3)),
        alice_open_later=make.chat(sandbox, agent=alice, created_at=at(4)),
        dave_open=make.chat(support_line, agent=dave, created_at=at(5)),
        alice_closed_first=make.chat(
            sandbox, state="closed", agent=alice, created_at=at(0), closed_at=at(20)
        ),
        bob_closed=make.chat(
            sandbox, state="closed", agent=bob, created_at=at(6), closed_at=at(10)
        ),
        alice_closed_last=make.chat(
            sandbox, state="closed", agent=alice, created_at=at(7), closed_at=at(15)
        ),
        sales_unassigned=make.chat(sandbox, state="unassigned", created_at=at(8)),
        support_unassigned=make.chat(support_line, state="unassigned", created_at=at(9)),
        bob_ticket=make.chat(sandbox, state="assigned", agent=bob, created_at=at(11)),
        alice_ticket=make.chat(sandbox, state="assigned", agent=alice, created_at=at(12)),
        alice_closed_ticket=make.chat(
            sandbox, state="ticket_closed", agent=alice, created_at=at(13), closed_at=at(14)
        ),
    )


# --- Tabs --------------------------------------------------------------------------------


@pytest.mark.parametrize("overseer", ["sam", "ada"])
def test_supervisors_and_admins_see_every_chat_of_each_tab(api_as, desk, overseer, request):
    api = api_as(request.getfixturevalue(overseer))

    assert ids(api.get("/chats", tab="chats")) == pks(
        desk.dave_open, desk.alice_open_later, desk.queued, desk.bob_open, desk.alice_open
    )
    # Most recently closed first, which is not the order they were created in.
    assert ids(api.get("/chats", tab="closed")) == pks(
        desk.alice_closed_first, desk.alice_closed_last, desk.bob_closed
    )
    # Every ticket whatever its state, newest first.
    assert ids(api.get("/chats", tab="tickets")) == pks(
        desk.alice_closed_ticket,
        desk.alice_ticket,
        desk.bob_ticket,
        desk.support_unassigned,
        desk.sales_unassigned,
    )


def test_the_default_tab_is_chats_and_a_full_page_has_no_next_cursor(api_as, sam, desk):
    response = api_as(sam).get("/chats")

    assert ids(response) == pks(
        desk.dave_open, desk.alice_open_later, desk.queued, desk.bob_open, desk.alice_open
    )
    assert response.json()["next_cursor"] is None


def test_filters_by_agent_department_and_ticket_state(api_as, sam, alice, bob, support, desk):
    api = api_as(sam)

    assert ids(api.get("/chats", agent_id=alice.pk)) == pks(desk.alice_open_later, desk.alice_open)
    assert ids(api.get("/chats", tab="closed", agent_id=bob.pk)) == pks(desk.bob_closed)
    assert ids(api.get("/chats", tab="tickets", department_id=support.pk)) == pks(
        desk.support_unassigned
    )
    assert ids(api.get("/chats", department_id=support.pk)) == pks(desk.dave_open)
    assert ids(api.get("/chats", tab="tickets", ticket_state="unassigned")) == pks(
        desk.support_unassigned, desk.sales_unassigned
    )
    assert ids(api.get("/chats", tab="tickets", ticket_state="assigned")) == pks(
        desk.alice_ticket, desk.bob_ticket
    )
    assert ids(api.get("/chats", tab="tickets", ticket_state="closed")) == pks(
        desk.alice_closed_ticket
    )
    assert ids(api.get("/chats", tab="tickets", ticket_state="assigned", agent_id=bob.pk)) == pks(
        desk.bob_ticket
    )


def test_an_agent_sees_own_chats_and_the_unassigned_tickets_of_their_departments(
    api_as, alice, desk
):
    api = api_as(alice)

    assert ids(api.get("/chats")) == pks(desk.alice_open_later, desk.alice_open)
    assert ids(api.get("/chats", tab="closed")) == pks(
        desk.alice_closed_first, desk.alice_closed_last
    )
    # Not bob's ticket, not Support's unassigned one.
    assert ids(api.get("/chats", tab="tickets")) == pks(
        desk.alice_closed_ticket, desk.alice_ticket, desk.sales_unassigned
    )


def test_an_agent_filtering_on_someone_else_gets_nothing(api_as, alice, bob, support, desk):
    api = api_as(alice)

    assert ids(api.get("/chats", agent_id=bob.pk)) == []
    assert ids(api.get("/chats", tab="tickets", department_id=support.pk)) == []


def test_an_agent_of_another_department_sees_that_departments_tickets(api_as, dave, desk):
    assert ids(api_as(dave).get("/chats", tab="tickets")) == pks(desk.support_unassigned)
    assert ids(api_as(dave).get("/chats")) == pks(desk.dave_open)


# --- Bad input ---------------------------------------------------------------------------


def test_an_unknown_tab_is_a_400(api_as, sam, db):
    response = api_as(sam).get("/chats", tab="open")

    assert response.status_code == 400
    assert response.json() == {"detail": "tab: Input should be 'chats', 'closed' or 'tickets'."}


@pytest.mark.parametrize("tab", ["chats", "closed"])
def test_ticket_state_outside_the_tickets_tab_is_a_400(api_as, sam, desk, tab):
    response = api_as(sam).get("/chats", tab=tab, ticket_state="unassigned")

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"ticket_state only applies to tab=tickets, not tab={tab}."
    }


def test_an_unknown_ticket_state_is_a_400(api_as, sam, db):
    response = api_as(sam).get("/chats", tab="tickets", ticket_state="open")

    assert response.status_code == 400
    assert "ticket_state" in response.json()["detail"]


@pytest.mark.parametrize("limit", [0, 201, -1])
def test_the_limit_is_between_1_and_200(api_as, sam, desk, limit):
    response = api_as(sam).get("/chats", limit=limit)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("limit: ")


def test_the_limit_defaults_to_50_and_goes_up_to_200(api_as, sam, sandbox):
    for _ in range(201):
        make.chat(sandbox, created_at=T0)
    api = api_as(sam)

    assert len(ids(api.get("/chats"))) == 50
    full = api.get("/chats", limit=200)
    assert len(ids(full)) == 200
    assert full.json()["next_cursor"] is not None


def test_anonymous_is_a_401(api_as, desk):
    anonymous = api_as(None)

    for path in (
        "/chats",
        "/chats/summary",
        f"/chats/{desk.alice_open.pk}",
        f"/chats/{desk.alice_open.pk}/messages",
        f"/chats/{desk.alice_open.pk}/events",
    ):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.json() == {
            "detail": "Sign in, or send a valid API token as 'Authorization: Bearer <token>'."
        }


# --- Cursors -----------------------------------------------------------------------------


def walk(api, limit: int, **query) -> tuple[list[int], list[int]]:
    """Every id of every page, and each page's size."""
    seen: list[int] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(100):
        page = api.get("/chats", limit=limit, **query, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        sizes.append(len(page.json()["items"]))
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen, sizes
    raise AssertionError("The pages never ended.")


def test_paging_returns_every_chat_once_even_when_they_share_a_timestamp(
    api_as, sam, alice, sandbox
):
    later = make.chat(sandbox, agent=alice, created_at=at(5))
    tied = [make.chat(sandbox, agent=alice, created_at=at(2)) for _ in range(7)]
    earlier = make.chat(sandbox, agent=alice, created_at=at(1))
    # A microsecond either side of a tie, which the cursor must keep.
    just_after = make.chat(sandbox, agent=alice, created_at=at(2) + timedelta(microseconds=1))
    just_before = make.chat(sandbox, agent=alice, created_at=at(2) - timedelta(microseconds=1))

    seen, sizes = walk(api_as(sam), limit=3)

    # Ties newest id first.
    tied_ids = sorted((c.pk for c in tied), reverse=True)
    assert seen == [later.pk, just_after.pk, *tied_ids, just_before.pk, earlier.pk]
    assert sizes == [3, 3, 3, 2]


def test_paging_the_closed_tab_by_closing_time_with_ties(api_as, sam, alice, sandbox):
    tied = [
        make.chat(sandbox, state="closed", agent=alice, created_at=at(i), closed_at=at(30))
        for i in range(5)
    ]
    last = make.chat(sandbox, state="closed", agent=alice, created_at=at(50), closed_at=at(10))

    seen, sizes = walk(api_as(sam), limit=2, tab="closed")

    assert seen == [*sorted((c.pk for c in tied), reverse=True), last.pk]
    assert sizes == [2, 2, 2]


def test_paging_keeps_the_filters_and_the_agents_view(api_as, alice, bob, sandbox):
    mine = [make.chat(sandbox, state="assigned", agent=alice, created_at=T0) for _ in range(3)]
    for _ in range(3):
        make.chat(sandbox, state="assigned", agent=bob, created_at=T0)
    unassigned = [make.chat(sandbox, state="unassigned", created_at=T0) for _ in range(2)]

    seen, _ = walk(api_as(alice), limit=2, tab="tickets")
    assert seen == sorted((c.pk for c in mine + unassigned), reverse=True)

    seen, _ = walk(api_as(alice), limit=1, tab="tickets", ticket_state="unassigned")
    assert seen == sorted((c.pk for c in unassigned), reverse=True)


def test_a_page_exactly_as_long_as_the_rest_has_no_next_cursor(api_as, sam, desk):
    response = api_as(sam).get("/chats", limit=5)

    assert len(ids(response)) == 5
    assert response.json()["next_cursor"] is None


def encoded(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "!!!!",
        "a" * 500,
        encoded({"created_at": "2025-03-03T09:00:00+00:00", "id": 1}),
        encoded(["chats.created_at", "not a time", 1]),
        encoded(["chats.created_at", "2025-03-03T09:00:00", 1]),  # no time zone
        encoded(["chats.created_at", "2025-03-03T09:00:00+00:00", -1]),
        encoded(["chats.created_at", "2025-03-03T09:00:00+00:00", "1"]),
        encoded(["chats.created_at", "2025-03-03T09:00:00+00:00", True]),
        encoded(["chats.created_at", "2025-03-03T09:00:00+00:00", 2**70]),
        encoded(["chats.created_at", "9999-12-31T23:59:59-05:00", 1]),
        encoded(["messages.created_at", "2025-03-03T09:00:00+00:00", 1]),
    ],
)
def test_a_malformed_cursor_is_a_400(api_as, sam, desk, cursor):
    response = api_as(sam).get("/chats", cursor=cursor)

    assert response.status_code == 400
    assert response.json() == BAD_CURSOR


def test_a_well_formed_cursor_of_the_right_list_is_accepted(api_as, sam, desk):
    cursor = encoded(["chats.created_at", at(3).isoformat(), desk.queued.pk])

    assert ids(api_as(sam).get("/chats", cursor=cursor)) == pks(desk.bob_open, desk.alice_open)


def test_a_cursor_of_another_tab_is_refused(api_as, sam, desk):
    closed = api_as(sam).get("/chats", tab="closed", limit=1).json()["next_cursor"]
    assert closed is not None

    response = api_as(sam).get("/chats", tab="chats", cursor=closed)

    assert response.status_code == 400
    assert response.json() == BAD_CURSOR


# --- One chat ----------------------------------------------------------------------------


def test_one_chat_in_full(api_as, sam, alice, sales, desk):
    response = api_as(sam).get(f"/chats/{desk.alice_open.pk}")

    assert response.status_code == 200, response.content
    chat = desk.alice_open
    assert response.json() == {
        "id": chat.pk,
        "kind": "chat",
        "status": "open",
        "ticket_state": None,
        "channel_id": chat.channel_id,
        "channel_kind": "sandbox",
        "contact": {
            "id": chat.contact_id,
            "phone": chat.contact.phone,
            "name": chat.contact.name,
            "provider_user_id": None,
            "username": "",
            "email": "",
        },
        "agent_id": alice.pk,
        "department_id": sales.pk,
        "created_at": "2025-03-03T09:01:00Z",
        "queued_at": None,
        "assigned_at": "2025-03-03T09:01:00Z",
        "first_response_at": None,
        "last_inbound_at": None,
        "last_message_at": None,
        "closed_at": None,
        "closed_by": None,
        "closed_by_user_id": None,
        "window_open": True,
        "window_expires_at": None,
        "continues_chat_id": None,
    }


def test_a_closed_ticket_in_the_list_and_alone_agree(api_as, sam, desk):
    api = api_as(sam)
    alone = api.get(f"/chats/{desk.alice_closed_ticket.pk}").json()
    listed = api.get("/chats", tab="tickets").json()["items"][0]

    assert listed == alone
    assert (alone["kind"], alone["status"], alone["ticket_state"], alone["closed_by"]) == (
        "ticket",
        "closed",
        "closed",
        "supervisor",
    )
    assert alone["closed_at"] == "2025-03-03T09:14:00Z"


def test_an_agent_gets_404_for_a_chat_they_may_not_see(api_as, alice, desk):
    api = api_as(alice)

    for chat in (desk.bob_open, desk.bob_ticket, desk.support_unassigned, desk.queued):
        response = api.get(f"/chats/{chat.pk}")
        assert response.status_code == 404, chat
        assert response.json() == {"detail": "No chat with that id."}

    for chat in (desk.alice_open, desk.alice_closed_first, desk.sales_unassigned):
        assert api.get(f"/chats/{chat.pk}").status_code == 200


def test_an_unknown_chat_is_the_same_404(api_as, sam, db):
    response = api_as(sam).get("/chats/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "No chat with that id."}


# --- Summary -----------------------------------------------------------------------------


def test_a_supervisor_summary_counts_the_whole_desk(api_as, sam, alice, bob, dave, desk):
    api = api_as(sam)

    assert api.get("/chats/summary").json() == {
        "tab": "chats",
        "total": 5,
        "agents": [
            {"agent_id": alice.pk, "display_name": "Alice Agent", "count": 2},
            {"agent_id": bob.pk, "display_name": "Bob Agent", "count": 1},
            {"agent_id": dave.pk, "display_name": "Dave Support", "count": 1},
        ],
        "unassigned": 1,
    }
    assert api.get("/chats/summary", tab="tickets").json() == {
        "tab": "tickets",
        "total": 5,
        "agents": [
            {"agent_id": alice.pk, "display_name": "Alice Agent", "count": 2},
            {"agent_id": bob.pk, "display_name": "Bob Agent", "count": 1},
        ],
        "unassigned": 2,
    }


def test_an_agent_summary_counts_only_what_they_may_see(api_as, alice, dave, desk):
    assert api_as(alice).get("/chats/summary").json() == {
        "tab": "chats",
        "total": 2,
        "agents": [{"agent_id": alice.pk, "display_name": "Alice Agent", "count": 2}],
        "unassigned": 0,
    }
    # Her two tickets and Sales' unassigned one; not bob's, not Support's.
    assert api_as(alice).get("/chats/summary", tab="tickets").json() == {
        "tab": "tickets",
        "total": 3,
        "agents": [{"agent_id": alice.pk, "display_name": "Alice Agent", "count": 2}],
        "unassigned": 1,
    }
    assert api_as(dave).get("/chats/summary", tab="closed").json() == {
        "tab": "closed",
        "total": 0,
        "agents": [],
        "unassigned": 0,
    }


def test_a_summary_of_an_unknown_tab_is_a_400(api_as, sam, db):
    response = api_as(sam).get("/chats/summary", tab="open")

    assert response.status_code == 400
    assert response.json() == {"detail": "tab: Input should be 'chats', 'closed' or 'tickets'."}


def test_a_summary_is_one_query_after_the_token(api_as, alice, desk, django_assert_num_queries):
    api = api_as(alice)

    with django_assert_num_queries(2):
        assert api.get("/chats/summary").status_code == 200
