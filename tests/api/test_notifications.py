"""GET /notifications, POST /notifications/{id}/read, /notifications/read-all and
GET /notifications/unread-count: each user reads and clears only their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Comment, Notification, NotificationKind
from tests.support import chat_factory as make

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
READ_AT = T0 + timedelta(hours=1)
NO_NOTIFICATION = {"detail": "No notification with that id."}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")


def notify(
    user: User,
    chat: Chat,
    *,
    minutes: int,
    kind: str = NotificationKind.MENTION,
    read_at: datetime | None = None,
) -> Notification:
    comment = None
    if kind == NotificationKind.MENTION:
        comment = Comment.objects.create(chat=chat, author=user, body="@x", created_at=at(minutes))
    return Notification.objects.create(
        recipient=user,
        kind=kind,
        chat=chat,
        comment=comment,
        read_at=read_at,
        created_at=at(minutes),
    )


def shown(notification: Notification) -> dict[str, object]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "chat_id": notification.chat_id,
        "comment_id": notification.comment_id,
        "actor_id": notification.actor_id,
        "note": notification.note,
        "read_at": iso(notification.read_at),
        "created_at": iso(notification.created_at),
    }


def read_ats(*notifications: Notification) -> list[datetime | None]:
    by_id = dict(
        Notification.objects.filter(pk__in=[n.pk for n in notifications]).values_list(
            "pk", "read_at"
        )
    )
    return [by_id[n.pk] for n in notifications]


@pytest.fixture
def chat(sandbox, alice) -> Chat:
    return make.chat(sandbox, agent=alice, created_at=T0)


@pytest.fixture
def inbox(alice, bob, chat):
    """alice's notifications, made out of time order, one already read; and one of bob's."""
    mention = notify(alice, chat, minutes=1)
    assigned = notify(alice, chat, minutes=3, kind=NotificationKind.ASSIGNED)
    read = notify(alice, chat, minutes=2, read_at=at(2))
    transferred = notify(alice, chat, minutes=4, kind=NotificationKind.TRANSFERRED)
    bobs = notify(bob, chat, minutes=5)
    return mention, assigned, read, transferred, bobs


def test_notifications_are_the_users_own_newest_first(api_as, alice, inbox):
    mention, assigned, read, transferred, _bobs = inbox

    response = api_as(alice).get("/notifications")

    assert response.status_code == 200, response.content
    assert response.json() == [shown(n) for n in (transferred, assigned, read, mention)]
    assert response.json()[0]["comment_id"] is None
    assert response.json()[-1]["comment_id"] == mention.comment_id


def test_the_unread_filter_leaves_out_what_was_read(api_as, alice, inbox):
    mention, assigned, _read, transferred, _bobs = inbox

    response = api_as(alice).get("/notifications", unread="true")

    assert response.status_code == 200, response.content
    assert response.json() == [shown(n) for n in (transferred, assigned, mention)]


def test_the_list_holds_the_latest_hundred(api_as, bob, chat):
    Notification.objects.bulk_create(
        Notification(recipient=bob, kind="assigned", chat=chat, created_at=at(n))
        for n in range(105)
    )

    response = api_as(bob).get("/notifications")

    assert response.status_code == 200
    assert [item["created_at"] for item in response.json()] == [
        iso(at(n)) for n in range(104, 4, -1)
    ]


def test_a_mention_in_a_comment_reaches_the_recipients_list(api_as, sam, alice, chat):
    with time_machine.travel(T0, tick=False):
        comment = api_as(sam).post(f"/chats/{chat.pk}/comments", {"body": "@alice look"}).json()

    response = api_as(alice).get("/notifications")

    notification = Notification.objects.get()
    assert response.json() == [
        {
            "id": notification.pk,
            "kind": "mention",
            "chat_id": chat.pk,
            "comment_id": comment["id"],
            "actor_id": None,
            "note": "",
            "read_at": None,
            "created_at": iso(T0),
        }
    ]
    assert api_as(sam).get("/notifications").json() == []


def test_the_recipient_marks_a_notification_read_once(api_as, alice, inbox):
    mention = inbox[0]
    api = api_as(alice)

    with time_machine.travel(READ_AT, tick=False):
        first = api.post(f"/notifications/{mention.pk}/read")
    with time_machine.travel(READ_AT + timedelta(hours=1), tick=False):
        again = api.post(f"/notifications/{mention.pk}/read")

    assert first.status_code == 200, first.content
    assert first.json() == {**shown(mention), "read_at": iso(READ_AT)}
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert read_ats(mention) == [READ_AT]


def test_only_the_recipient_may_mark_it_read(api_as, bob, sam, inbox):
    mention = inbox[0]

    for user in (bob, sam):
        response = api_as(user).post(f"/notifications/{mention.pk}/read")
        assert response.status_code == 404
        assert response.json() == NO_NOTIFICATION
    assert read_ats(mention) == [None]


def test_an_unknown_notification_is_not_found(api_as, alice, db):
    response = api_as(alice).post("/notifications/987654/read")

    assert response.status_code == 404
    assert response.json() == NO_NOTIFICATION


def test_read_all_marks_only_the_users_unread_notifications(api_as, alice, inbox):
    mention, assigned, read, transferred, bobs = inbox
    api = api_as(alice)

    with time_machine.travel(READ_AT, tick=False):
        response = api.post("/notifications/read-all")
    again = api.post("/notifications/read-all")

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 3}
    assert again.json() == {"count": 0}
    assert read_ats(mention, assigned, read, transferred, bobs) == [
        READ_AT,
        READ_AT,
        at(2),  # read before: keeps its time
        READ_AT,
        None,  # bob's
    ]
    assert api.get("/notifications", unread="true").json() == []


def test_the_unread_count(api_as, alice, bob, sam, inbox):
    mention = inbox[0]
    api = api_as(alice)

    assert api.get("/notifications/unread-count").json() == {"count": 3}
    api.post(f"/notifications/{mention.pk}/read")
    assert api.get("/notifications/unread-count").json() == {"count": 2}
    assert api_as(bob).get("/notifications/unread-count").json() == {"count": 1}
    assert api_as(sam).get("/notifications/unread-count").json() == {"count": 0}


def test_anonymous_requests_are_refused(api_as, inbox):
    api = api_as(None)
    mention = inbox[0]

    assert api.get("/notifications").status_code == 401
    assert api.get("/notifications/unread-count").status_code == 401
    assert api.post(f"/notifications/{mention.pk}/read").status_code == 401
    assert api.post("/notifications/read-all").status_code == 401
    assert read_ats(mention) == [None]


@pytest.mark.parametrize("how_many", [1, 10])
def test_listing_takes_the_same_queries_however_many(
    api_as, bob, chat, how_many, django_assert_num_queries
):
    for n in range(how_many):
        notify(bob, chat, minutes=n)
    api = api_as(bob)

    # The token and the notifications.
    with django_assert_num_queries(2):
        response = api.get("/notifications")

    assert len(response.json()) == how_many
