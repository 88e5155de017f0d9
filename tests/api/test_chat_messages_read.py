"""GET /chats/{id}/messages and /chats/{id}/events: a chat's conversation, oldest first
and paged by cursor, and its permanent timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatdesk.chats.models import Chat, Direction, EventKind
from chatdesk.providers.models import Template
from tests.support import chat_factory as make

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
BAD_CURSOR = {"detail": "The cursor is not valid; start again without it."}


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def alices_chat(sandbox, alice) -> Chat:
    return make.chat(sandbox, agent=alice, created_at=T0)


@pytest.fixture
def bobs_chat(sandbox, bob) -> Chat:
    return make.chat(sandbox, agent=bob, created_at=T0)


@pytest.fixture
def welcome(sandbox) -> Template:
    return Template.objects.create(
        channel=sandbox, name="welcome", language="en", body="Hi {{1}}", status="approved"
    )


def test_messages_oldest_first_in_full(api_as, alice, alices_chat, welcome):
    # Written out of order, so the answer's order is not the insertion order.
    reply = make.message(
        alices_chat,
        direction=Direction.OUT,
        text="Hi Carol",
        author=alice,
        template=welcome,
        variables=["Carol"],
        status="delivered",
        provider_message_id="wamid.OUT1",
        created_at=at(60),
    )
    question = make.message(
        alices_chat, text="Where is my order?", provider_message_id="wamid.IN1", created_at=at(0)
    )
    failed = make.message(
        alices_chat,
        direction=Direction.OUT,
        text="Anything else?",
        author=alice,
        status="failed",
        error_code="131047",
        error_reason="Re-engagement message",
        created_at=at(120),
    )

    response = api_as(alice).get(f"/chats/{alices_chat.pk}/messages")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "items": [
            {
                "id": question.pk,
                "direction": "in",
                "content_type": "text",
                "text": "Where is my order?",
                "template": None,
                "media": {},
                "author_id": None,
                "is_automatic": False,
                "status": None,
                "error_code": "",
                "error_reason": "",
                "provider_message_id": "wamid.IN1",
                "created_at": "2025-03-03T09:00:00Z",
            },
            {
                "id": reply.pk,
                "direction": "out",
                "content_type": "template",
                "text": "Hi Carol",
                "template": {
                    "id": welcome.pk,
                    "name": "welcome",
                    "language": "en",
                    "variables": ["Carol"],
                },
                "media": {},
                "author_id": alice.pk,
                "is_automatic": False,
                "status": "delivered",
                "error_code": "",
                "error_reason": "",
                "provider_message_id": "wamid.OUT1",
                "created_at": "2025-03-03T09:01:00Z",
            },
            {
                "id": failed.pk,
                "direction": "out",
                "content_type": "text",
                "text": "Anything else?",
                "template": None,
                "media": {},
                "author_id": alice.pk,
                "is_automatic": False,
                "status": "failed",
                "error_code": "131047",
                "error_reason": "Re-engagement message",
                "provider_message_id": None,
                "created_at": "2025-03-03T09:02:00Z",
            },
        ],
        "next_cursor": None,
    }


def test_only_the_chats_own_messages(api_as, sam, alices_chat, bobs_chat):
    mine = make.message(alices_chat, created_at=at(1))
    make.message(bobs_chat, created_at=at(0))

    assert ids(api_as(sam).get(f"/chats/{alices_chat.pk}/messages")) == [mine.pk]


def test_paging_messages_returns_each_once_with_shared_timestamps(api_as, alice, alices_chat):
    first = make.message(alices_chat, created_at=at(0))
    tied = [make.message(alices_chat, created_at=at(5)) for _ in range(5)]
    last = make.message(alices_chat, created_at=at(9))
    api = api_as(alice)

    seen: list[int] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(20):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/chats/{alices_chat.pk}/messages", **query)
        seen += ids(page)
        sizes.append(len(page.json()["items"]))
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == [first.pk, *(m.pk for m in tied), last.pk]
    assert sizes == [2, 2, 2, 1]


def test_messages_default_to_pages_of_50(api_as, alice, alices_chat):
    for i in range(51):
        make.message(alices_chat, created_at=at(i))

    response = api_as(alice).get(f"/chats/{alices_chat.pk}/messages")

    assert len(ids(response)) == 50
    assert response.json()["next_cursor"] is not None


@pytest.mark.parametrize("cursor", ["nonsense", "e30", "W10"])
def test_a_malformed_message_cursor_is_a_400(api_as, alice, alices_chat, cursor):
    response = api_as(alice).get(f"/chats/{alices_chat.pk}/messages", cursor=cursor)

    assert response.status_code == 400
    assert response.json() == BAD_CURSOR


def test_a_chat_list_cursor_is_refused_for_messages(api_as, sam, alices_chat, bobs_chat):
    cursor = api_as(sam).get("/chats", limit=1).json()["next_cursor"]
    assert cursor is not None

    response = api_as(sam).get(f"/chats/{alices_chat.pk}/messages", cursor=cursor)

    assert response.status_code == 400
    assert response.json() == BAD_CURSOR


def test_an_agent_cannot_read_someone_elses_messages_or_events(api_as, alice, sam, bobs_chat):
    make.message(bobs_chat, created_at=at(0))
    make.event(bobs_chat, EventKind.CREATED, created_at=at(0))

    for path in (f"/chats/{bobs_chat.pk}/messages", f"/chats/{bobs_chat.pk}/events"):
        response = api_as(alice).get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "No chat with that id."}
        assert api_as(sam).get(path).status_code == 200, path


@pytest.mark.parametrize("size", [5, 50])
def test_a_page_of_messages_costs_the_same_queries_whatever_its_size(
    api_as, alice, alices_chat, welcome, django_assert_num_queries, size
):
    for i in range(size):
        make.message(
            alices_chat,
            direction=Direction.OUT,
            author=alice,
            template=welcome,
            variables=[str(i)],
            created_at=at(i),
        )
    api = api_as(alice)

    # The token's user, the chat (with its access check), the page with its templates.
    with django_assert_num_queries(3):
        response = api.get(f"/chats/{alices_chat.pk}/messages", limit=size)
    assert len(ids(response)) == size
    assert response.json()["items"][-1]["template"]["variables"] == [str(size - 1)]


def test_events_in_time_order(api_as, alice, sam, sales, alices_chat):
    assigned = make.event(
        alices_chat,
        EventKind.ASSIGNED,
        actor=sam,
        data={"agent_id": alice.pk, "department_id": sales.pk},
        created_at=at(30),
    )
    created = make.event(alices_chat, EventKind.CREATED, created_at=at(0))
    closed = make.event(alices_chat, EventKind.CLOSED, actor=alice, created_at=at(30))

    response = api_as(alice).get(f"/chats/{alices_chat.pk}/events")

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "id": created.pk,
            "kind": "created",
            "actor_id": None,
            "data": {},
            "created_at": "2025-03-03T09:00:00Z",
        },
        {
            "id": assigned.pk,
            "kind": "assigned",
            "actor_id": sam.pk,
            "data": {"agent_id": alice.pk, "department_id": sales.pk},
            "created_at": "2025-03-03T09:00:30Z",
        },
        {
            "id": closed.pk,
            "kind": "closed",
            "actor_id": alice.pk,
            "data": {},
            "created_at": "2025-03-03T09:00:30Z",
        },
    ]


def test_events_of_another_chat_are_not_listed(api_as, sam, alices_chat, bobs_chat):
    make.event(bobs_chat, EventKind.CREATED, created_at=at(0))

    assert api_as(sam).get(f"/chats/{alices_chat.pk}/events").json() == []
