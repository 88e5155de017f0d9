"""GET/POST /chats/{id}/comments: internal notes, who may write them, and the @mentions
that notify only users who may see the chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, ChatEvent, Comment, EventKind, Notification
from chatdesk.chats.services.comments import mentioned_names
from tests.support import chat_factory as make

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
NO_CHAT = {"detail": "No chat with that id."}
EMPTY = {"detail": "A comment cannot be empty."}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def alices_chat(sandbox, alice) -> Chat:
    return make.chat(sandbox, agent=alice, created_at=T0)


@pytest.fixture
def bobs_chat(sandbox, bob) -> Chat:
    return make.chat(sandbox, agent=bob, created_at=T0)


@pytest.fixture
def sales_ticket(sandbox) -> Chat:
    """An unassigned Sales ticket: alice and bob (Sales) see it, dave (Support) does not."""
    return make.chat(sandbox, state="unassigned", created_at=T0)


def post(api, chat: Chat, body: str):
    return api.post(f"/chats/{chat.pk}/comments", {"body": body})


def notified(chat: Chat) -> list[tuple[int, str, int | None, object]]:
    return list(
        Notification.objects.filter(chat=chat)
        .order_by("recipient_id")
        .values_list("recipient_id", "kind", "comment_id", "read_at")
    )


def test_a_supervisor_mentions_only_users_who_may_see_the_chat(
    api_as, sam, alice, dave, alices_chat
):
    with time_machine.travel(T0, tick=False):
        response = post(api_as(sam), alices_chat, "  @alice and @dave and @nobody  ")

    assert response.status_code == 201, response.content
    comment = Comment.objects.get()
    assert response.json() == {
        "id": comment.pk,
        "author_id": sam.pk,
        "body": "@alice and @dave and @nobody",
        "mentions": [alice.pk],
        "created_at": iso(T0),
    }
    assert (comment.chat_id, comment.author_id, comment.body, comment.created_at) == (
        alices_chat.pk,
        sam.pk,
        "@alice and @dave and @nobody",
        T0,
    )
    assert list(comment.mentions.values_list("pk", flat=True)) == [alice.pk]
    # Exactly one notification, for alice: dave cannot see a Sales chat, nobody is nobody.
    assert list(
        Notification.objects.values_list("recipient_id", "kind", "chat_id", "comment_id")
    ) == [(alice.pk, "mention", alices_chat.pk, comment.pk)]
    assert Notification.objects.get().created_at == T0
    assert list(ChatEvent.objects.values_list("chat_id", "kind", "actor_id", "data")) == [
        (
            alices_chat.pk,
            EventKind.COMMENTED,
            sam.pk,
            {"comment_id": comment.pk, "mentions": [alice.pk]},
        )
    ]


def test_an_agent_comments_on_her_own_chat_and_mentions_a_supervisor(
    api_as, alice, sam, alices_chat
):
    response = post(api_as(alice), alices_chat, "Refund over the limit, @sam.")

    assert response.status_code == 201, response.content
    comment = Comment.objects.get()
    assert response.json()["author_id"] == alice.pk
    assert response.json()["mentions"] == [sam.pk]
    assert (comment.author_id, comment.body) == (alice.pk, "Refund over the limit, @sam.")
    assert notified(alices_chat) == [(sam.pk, "mention", comment.pk, None)]


def test_mentions_ignore_case_and_trailing_punctuation_but_not_email_addresses(
    api_as, sam, alice, bob, dave, sales_ticket
):
    body = "@Alice, can you or @BOB. take this? Not dave@example.com or @dave."

    response = post(api_as(sam), sales_ticket, body)

    assert response.status_code == 201, response.content
    comment = Comment.objects.get()
    assert response.json()["mentions"] == sorted([alice.pk, bob.pk])
    assert response.json()["body"] == body
    assert notified(sales_ticket) == sorted(
        [(alice.pk, "mention", comment.pk, None), (bob.pk, "mention", comment.pk, None)]
    )


def test_the_same_user_mentioned_twice_is_notified_once(api_as, sam, alice, alices_chat):
    response = post(api_as(sam), alices_chat, "@alice? @alice!")

    assert response.json()["mentions"] == [alice.pk]
    assert Notification.objects.filter(recipient=alice).count() == 1


def test_a_self_mention_is_ignored(api_as, alice, alices_chat):
    response = post(api_as(alice), alices_chat, "Reminder for @alice: call back at 3.")

    assert response.status_code == 201, response.content
    assert response.json()["mentions"] == []
    assert not Notification.objects.exists()
    assert ChatEvent.objects.get(kind=EventKind.COMMENTED).data["mentions"] == []


def test_an_inactive_user_is_not_mentioned(api_as, sam, bob, sales_ticket):
    User.objects.filter(pk=bob.pk).update(is_active=False)

    response = post(api_as(sam), sales_ticket, "@bob please look")

    assert response.status_code == 201, response.content
    assert response.json()["mentions"] == []
    assert not Notification.objects.exists()


def test_a_username_that_ends_in_a_period_wins_over_the_bare_name(
    api_as, sam, alice, alices_chat, django_user_model
):
    dotted = django_user_model.objects.create_user(username="alice.", role="supervisor")

    response = post(api_as(sam), alices_chat, "@alice. and @alice.")

    assert response.json()["mentions"] == [dotted.pk]


def test_mention_tokens():
    assert mentioned_names("hi @a.b+c-d_e@f, @x. mail y@z.com (@w)") == [
        ("a.b+c-d_e@f", "a.b+c-d_e@f"),
        ("x.", "x"),
        ("w", "w"),
    ]


@pytest.mark.parametrize("state", ["closed", "unassigned", "assigned", "ticket_closed"])
def test_comments_are_allowed_on_closed_chats_and_on_tickets(api_as, sam, alice, sandbox, state):
    chat = make.chat(sandbox, state=state, agent=alice if state == "assigned" else None)

    response = post(api_as(sam), chat, "@alice for the record")

    assert response.status_code == 201, response.content
    assert Comment.objects.filter(chat=chat).count() == 1
    # alice may see the chats she holds and her department's unassigned tickets only.
    expected = [alice.pk] if state in ("unassigned", "assigned") else []
    assert response.json()["mentions"] == expected


def test_an_agent_cannot_comment_on_a_chat_that_is_not_hers(api_as, alice, bobs_chat):
    response = post(api_as(alice), bobs_chat, "@bob hi")

    assert response.status_code == 404
    assert response.json() == NO_CHAT
    assert not Comment.objects.exists()
    assert not Notification.objects.exists()
    assert not ChatEvent.objects.exists()


def test_anonymous_requests_are_refused(api_as, alices_chat):
    api = api_as(None)

    assert post(api, alices_chat, "hello").status_code == 401
    assert api.get(f"/chats/{alices_chat.pk}/comments").status_code == 401
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_an_empty_comment_is_a_400(api_as, sam, alices_chat, body):
    response = post(api_as(sam), alices_chat, body)

    assert response.status_code == 400
    assert response.json() == EMPTY
    assert not Comment.objects.exists()
    assert not ChatEvent.objects.exists()


def test_a_comment_may_be_4000_characters_and_no_more(api_as, sam, alices_chat):
    api = api_as(sam)

    too_long = post(api, alices_chat, "x" * 4001)
    longest = post(api, alices_chat, "  " + "x" * 4000 + "  ")

    assert too_long.status_code == 400
    assert too_long.json() == {
        "detail": "A comment can be at most 4000 characters; this one has 4001."
    }
    assert longest.status_code == 201, longest.content
    assert Comment.objects.get().body == "x" * 4000


def test_a_missing_body_is_a_400(api_as, sam, alices_chat):
    response = api_as(sam).post(f"/chats/{alices_chat.pk}/comments", {})

    assert response.status_code == 400
    assert response.json() == {"detail": "body is required."}


def test_comments_read_oldest_first(api_as, alice, sam, bob, sales_ticket):
    # Written out of order, so the answer's order is not the insertion order.
    later = Comment.objects.create(
        chat=sales_ticket, author=sam, body="@bob second", created_at=T0 + timedelta(minutes=5)
    )
    later.mentions.set([bob])
    first = Comment.objects.create(chat=sales_ticket, author=alice, body="first", created_at=T0)
    tie = Comment.objects.create(
        chat=sales_ticket, author=sam, body="@alice @bob third", created_at=later.created_at
    )
    tie.mentions.set([bob, alice])
    Comment.objects.create(
        chat=make.chat(sales_ticket.channel), author=sam, body="elsewhere", created_at=T0
    )

    response = api_as(alice).get(f"/chats/{sales_ticket.pk}/comments")

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "id": first.pk,
            "author_id": alice.pk,
            "body": "first",
            "mentions": [],
            "created_at": iso(T0),
        },
        {
            "id": later.pk,
            "author_id": sam.pk,
            "body": "@bob second",
            "mentions": [bob.pk],
            "created_at": iso(later.created_at),
        },
        {
            "id": tie.pk,
            "author_id": sam.pk,
            "body": "@alice @bob third",
            "mentions": sorted([alice.pk, bob.pk]),
            "created_at": iso(tie.created_at),
        },
    ]


def test_comments_of_a_chat_you_may_not_see_are_not_found(api_as, alice, bob, bobs_chat):
    Comment.objects.create(chat=bobs_chat, author=bob, body="x", created_at=T0)

    response = api_as(alice).get(f"/chats/{bobs_chat.pk}/comments")

    assert response.status_code == 404
    assert response.json() == NO_CHAT


@pytest.mark.parametrize("how_many", [1, 10])
def test_reading_comments_takes_the_same_queries_however_many(
    api_as, sam, alice, bob, alices_chat, how_many, django_assert_num_queries
):
    for n in range(how_many):
        comment = Comment.objects.create(
            chat=alices_chat, author=sam, body=f"@alice {n}", created_at=T0 + timedelta(seconds=n)
        )
        comment.mentions.set([alice, bob])
    api = api_as(sam)

    # The token, the chat, the comments, and their mentions.
    with django_assert_num_queries(4):
        response = api.get(f"/chats/{alices_chat.pk}/comments")

    assert response.status_code == 200
    assert len(response.json()) == how_many
    assert all(item["mentions"] == sorted([alice.pk, bob.pk]) for item in response.json())
